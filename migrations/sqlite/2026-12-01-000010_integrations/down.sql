DROP INDEX contacts_instagram_key;
DROP INDEX contacts_facebook_key;
DROP TABLE integrations;
