-- Nothing changes here: PostgreSQL's search column lives in the message row itself. This migration
-- pairs with the SQLite one of the same name (its full-text index now keyed on the message id), so
-- both backends keep the same list of migrations.
SELECT 1;
