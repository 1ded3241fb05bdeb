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
    password_resets (id) {
        id -> Text,
        company_id -> Text,
        user_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
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
        identity_secret_enc -> Nullable<Text>,
        identity_verification -> Text,
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

diesel::table! {
    contacts (id) {
        id -> Text,
        company_id -> Text,
        name -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        facebook_id -> Nullable<Text>,
        instagram_id -> Nullable<Text>,
        external_id -> Nullable<Text>,
        metadata -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    devices (id) {
        id -> Text,
        company_id -> Text,
        app_id -> Text,
        device_id -> Text,
        contact_id -> Text,
        platform -> Text,
        push_token -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    conversations (id) {
        id -> Text,
        company_id -> Text,
        contact_id -> Text,
        app_id -> Nullable<Text>,
        platform -> Text,
        status -> Text,
        assignee_id -> Nullable<Text>,
        last_sequence -> BigInt,
        last_message_at -> Nullable<Timestamp>,
        agent_read_sequence -> BigInt,
        contact_read_sequence -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_position -> BigInt,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        company_id -> Text,
        conversation_id -> Text,
        sequence -> BigInt,
        local_id -> Nullable<Text>,
        sender -> Text,
        author_id -> Nullable<Text>,
        direction -> Text,
        platform -> Text,
        body -> Text,
        attachments -> Text,
        status -> Text,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        position -> BigInt,
    }
}

diesel::table! {
    conversation_changes (conversation_id, position) {
        company_id -> Text,
        conversation_id -> Text,
        position -> BigInt,
        last_sequence -> BigInt,
        kind -> Text,
        message_id -> Nullable<Text>,
        detail -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        company_id -> Text,
        kind -> Text,
        idempotency_key -> Text,
        payload -> Text,
        message_id -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        due_at -> Timestamp,
        leased_until -> Nullable<Timestamp>,
        lease_token -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        order_key -> Nullable<Text>,
    }
}

diesel::table! {
    integrations (company_id, kind) {
        company_id -> Text,
        kind -> Text,
        config -> Text,
        secrets -> Nullable<Text>,
        key_id -> Nullable<Text>,
        page_id -> Nullable<Text>,
        instagram_account_id -> Nullable<Text>,
        verify_token_digest -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        company_id -> Text,
        url -> Text,
        events -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_until -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        company_id -> Text,
        endpoint_id -> Text,
        outbox_id -> Text,
        event -> Text,
        delivery_id -> Text,
        status_code -> Nullable<Integer>,
        duration_ms -> BigInt,
        error -> Nullable<Text>,
        attempted_at -> Timestamp,
    }
}

diesel::table! {
    appointments (id) {
        id -> Text,
        company_id -> Text,
        contact_id -> Nullable<Text>,
        conversation_id -> Nullable<Text>,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        duration_min -> Integer,
        status -> Text,
        personal_sealed -> Nullable<Text>,
        email_index -> Nullable<Text>,
        key_id -> Nullable<Text>,
        remind_at -> Nullable<Timestamp>,
        inquiry -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        company_id -> Text,
        app_id -> Nullable<Text>,
        device_id -> Nullable<Text>,
        contact_id -> Nullable<Text>,
        name -> Text,
        properties -> Text,
        occurred_at -> Timestamp,
        received_at -> Timestamp,
    }
}

diesel::table! {
    jobs (name) {
        name -> Text,
        due_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        leased_until -> Nullable<Timestamp>,
        lease_token -> Nullable<Text>,
        last_run_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(users -> companies (company_id));
diesel::joinable!(messages -> conversations (conversation_id));
diesel::joinable!(conversation_changes -> messages (message_id));
diesel::table! {
    uploads (id) {
        id -> Text,
        company_id -> Text,
        object_key -> Text,
        name -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        thumbnail_key -> Nullable<Text>,
        uploaded_by -> Text,
        created_at -> Timestamp,
        message_id -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        company_id -> Text,
        action -> Text,
        actor_kind -> Text,
        actor_id -> Text,
        target_kind -> Nullable<Text>,
        target_id -> Nullable<Text>,
        detail -> Text,
        ip_sealed -> Nullable<Text>,
        occurred_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    companies,
    users,
    refresh_tokens,
    password_resets,
    apps,
    api_keys,
    contacts,
    devices,
    conversations,
    messages,
    conversation_changes,
    outbox,
    integrations,
    webhook_endpoints,
    webhook_attempts,
    events,
    jobs,
    appointments,
    uploads,
    audit_log,
);
