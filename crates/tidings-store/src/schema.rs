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

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        company_id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        replaced_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    apps (id) {
        id -> Text,
        company_id -> Text,
        name -> Text,
        settings -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        company_id -> Text,
        app_id -> Nullable<Text>,
        kind -> Text,
        prefix -> Text,
        key_hash -> Text,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> companies (company_id));
diesel::allow_tables_to_appear_in_same_query!(companies, users, refresh_tokens, apps, api_keys);
