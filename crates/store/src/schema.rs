//! The one schema both backends share, written with the portable SQL types of
//! [`crate::types::sql`]. Migrations in `migrations/{postgres,sqlite}` must
//! produce tables that match it.

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    users (id) {
        id -> PortableUuid,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        is_admin -> Bool,
        created_at -> PortableTimestamp,
        updated_at -> PortableTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    projects (id) {
        id -> PortableUuid,
        name -> Text,
        display_name -> Nullable<Text>,
        description -> Nullable<Text>,
        color -> Nullable<Text>,
        icon_path -> Nullable<Text>,
        single_server_mode -> Bool,
        default_server_id -> Nullable<PortableUuid>,
        auto_error_tracking_enabled -> Bool,
        owner_id -> PortableUuid,
        created_at -> PortableTimestamp,
        updated_at -> PortableTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    project_members (id) {
        id -> PortableUuid,
        project_id -> PortableUuid,
        user_id -> PortableUuid,
        role -> Text,
        created_at -> PortableTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    invites (id) {
        id -> PortableUuid,
        project_id -> PortableUuid,
        email -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> PortableUuid,
        expires_at -> PortableTimestamp,
        accepted_at -> Nullable<PortableTimestamp>,
        created_at -> PortableTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    environments (id) {
        id -> PortableUuid,
        project_id -> PortableUuid,
        name -> Text,
        display_name -> Nullable<Text>,
        #[sql_name = "type"]
        env_type -> Text,
        description -> Nullable<Text>,
        color -> Nullable<Text>,
        git_branch -> Nullable<Text>,
        is_default -> Bool,
        created_at -> PortableTimestamp,
        updated_at -> PortableTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    resources (id) {
        id -> BigInt,
        project_id -> PortableUuid,
        environment_id -> PortableUuid,
        #[sql_name = "type"]
        resource_type -> Text,
        name -> Text,
        /// `''` when the resource has none.
        parent_domain -> Text,
        status -> Text,
        position_x -> Double,
        position_y -> Double,
        config -> PortableJson,
        credential_conn_id -> Nullable<Text>,
        created_at -> PortableTimestamp,
        updated_at -> PortableTimestamp,
        deleted_at -> Nullable<PortableTimestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    resource_connections (id) {
        id -> BigInt,
        user_id -> PortableUuid,
        project_id -> PortableUuid,
        environment_id -> PortableUuid,
        source_type -> Text,
        source_id -> BigInt,
        target_type -> Text,
        target_id -> BigInt,
        status -> Text,
        connection_details -> Nullable<PortableJson>,
        error_message -> Nullable<Text>,
        created_at -> PortableTimestamp,
        updated_at -> PortableTimestamp,
        deleted_at -> Nullable<PortableTimestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    allowed_connections (id) {
        id -> BigInt,
        source_type -> Text,
        target_type -> Text,
        created_at -> PortableTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    credential_connections (id) {
        id -> PortableUuid,
        environment_id -> PortableUuid,
        conn_id -> Text,
        #[sql_name = "type"]
        conn_type -> Text,
        host -> Nullable<Text>,
        port -> Nullable<Integer>,
        #[sql_name = "schema"]
        schema_name -> Nullable<Text>,
        login -> Nullable<Text>,
        description -> Nullable<Text>,
        password_key_id -> Nullable<Text>,
        password_sealed -> Nullable<Text>,
        extra_key_id -> Nullable<Text>,
        extra_sealed -> Nullable<Text>,
        /// `{at, success, reason, driver}` of the last connectivity test.
        last_test -> Nullable<PortableJson>,
        created_at -> PortableTimestamp,
        updated_at -> PortableTimestamp,
    }
}

diesel::joinable!(project_members -> projects (project_id));
diesel::joinable!(project_members -> users (user_id));
diesel::joinable!(invites -> projects (project_id));
diesel::joinable!(environments -> projects (project_id));
diesel::joinable!(resources -> projects (project_id));
diesel::joinable!(resources -> environments (environment_id));
diesel::joinable!(credential_connections -> environments (environment_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    projects,
    project_members,
    invites,
    environments,
    resources,
    resource_connections,
    allowed_connections,
    credential_connections,
);
