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
