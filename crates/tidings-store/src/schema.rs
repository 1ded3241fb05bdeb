//! Diesel table definitions, shared by both backends: only backend-neutral column types are used
//! (ids and JSON as `Text`, times as UTC `Timestamp`).

diesel::table! {
    companies (id) {
        id -> Text,
        name -> Text,
        settings -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        company_id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> companies (company_id));
diesel::allow_tables_to_appear_in_same_query!(companies, users);
