//! Storage behaviour that only shows through the API or the migration
//! commands: migrations up → down → up, and concurrent writers.

use patchbay_tests::{TestApp, on_both_backends};
use serde_json::json;

async fn migrations_go_down_and_up_again(app: &TestApp) {
    let url = app.settings.database_url.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    // Sync migration code must not run inside the async runtime.
    std::thread::spawn(move || {
        let result = (|| {
            // The server is up, so everything is applied: nothing pending.
            let again = patchbay_store::run_migrations(&url)?;
            assert!(again.versions.is_empty(), "{again:?}");
            let down = patchbay_store::revert_all_migrations(&url)?;
            assert!(!down.versions.is_empty());
            let up = patchbay_store::run_migrations(&url)?;
            assert_eq!(up.versions.len(), down.versions.len());
            Ok::<_, String>(())
        })();
        let _ = tx.send(result);
    });
    rx.recv().unwrap().unwrap();
    // The schema works after the round trip.
    let res = app
        .client
        .post(
            "/api/auth/register",
            None,
            &json!({"email": "a@example.com", "password": "long enough", "name": "A"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
}

async fn concurrent_registrations_make_exactly_one_admin_and_no_5xx(app: &TestApp) {
    let mut tasks = Vec::new();
    for i in 0..12 {
        let client = app.client.clone();
        tasks.push(actix_web::rt::spawn(async move {
            client
                .post(
                    "/api/auth/register",
                    None,
                    &json!({"email": format!("user{}@example.com", i % 6), "password": "long enough", "name": "U"}),
                )
                .await
        }));
    }
    let mut admins = 0;
    let mut created = 0;
    for task in tasks {
        let res = task.await.unwrap();
        assert!(res.status < 500, "{} {}", res.status, res.text());
        if res.status == 201 {
            created += 1;
            if res.json()["user"]["is_admin"] == true {
                admins += 1;
            }
        } else {
            res.assert_error(409, "Conflict", "A user with this email already exists");
        }
    }
    assert_eq!(created, 6, "one account per distinct email");
    assert_eq!(admins, 1, "exactly one first user");
}

on_both_backends!(
    migrations_go_down_and_up_again,
    concurrent_registrations_make_exactly_one_admin_and_no_5xx,
);
