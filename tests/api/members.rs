//! Members, invites and ownership transfer (seed 004).

use patchbay_tests::{Backend, TestApp, on_both_backends};
use serde_json::{Value, json};

use crate::support::{add_member, create_project, email, register};

async fn invite_accept_roles_and_transfer(app: &TestApp) {
    let (owner, ot) = register(app, &email("owner")).await;
    let o = Some(ot.as_str());
    let p = create_project(app, &ot, "team").await;
    let pid = p["id"].as_str().unwrap().to_owned();

    // Invite grace as member; the token is shown once.
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/invites"),
            o,
            &json!({"email": email("Grace"), "role": "member"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let invite = res.json();
    let token = invite["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 22, "≥ 128 bits");
    assert_eq!(invite["email"], email("grace"));
    assert_eq!(invite["role"], "member");
    assert_eq!(invite["invited_by"], owner["id"]);

    let list = app
        .client
        .get(&format!("/api/v1/projects/{pid}/invites"), o)
        .await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json().as_array().unwrap().len(), 1);
    assert!(
        list.json()[0].get("token").is_none(),
        "tokens are never listed"
    );
    assert!(!list.text().contains(&token));

    // A second pending invite for the same email is a conflict.
    let dup = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/invites"),
            o,
            &json!({"email": email("grace"), "role": "viewer"}),
        )
        .await;
    assert_eq!(dup.status, 409, "{}", dup.text());

    // The token shows the invite without an account.
    let shown = app
        .client
        .get(&format!("/api/v1/invites/{token}"), None)
        .await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert_eq!(shown.json()["project"]["name"], "team");
    assert_eq!(shown.json()["role"], "member");
    assert_eq!(shown.json()["email"], email("grace"));
    assert!(shown.json()["expires_at"].is_string());
    assert_eq!(
        app.client
            .get("/api/v1/invites/not-a-real-token", None)
            .await
            .status,
        404
    );

    // Someone else cannot accept it.
    let (_, mallory) = register(app, &email("mallory")).await;
    let res = app
        .client
        .post(
            &format!("/api/v1/invites/{token}/accept"),
            Some(&mallory),
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(
        app.client
            .post(&format!("/api/v1/invites/{token}/accept"), None, &json!({}))
            .await
            .status,
        401
    );

    // Grace registers, sees the invite, accepts it once.
    let (grace, gt) = register(app, &email("grace")).await;
    let g = Some(gt.as_str());
    let mine = app.client.get("/api/v1/me/invites", g).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.json().as_array().unwrap().len(), 1);
    assert_eq!(mine.json()[0]["project"]["id"], pid.as_str());
    let res = app
        .client
        .post(&format!("/api/v1/invites/{token}/accept"), g, &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["role"], "member");
    assert_eq!(res.json()["id"], pid.as_str());
    let again = app
        .client
        .post(&format!("/api/v1/invites/{token}/accept"), g, &json!({}))
        .await;
    assert_eq!(again.status, 410, "{}", again.text());
    assert_eq!(
        app.client
            .get(&format!("/api/v1/invites/{token}"), None)
            .await
            .status,
        410
    );
    assert_eq!(
        app.client.get("/api/v1/me/invites", g).await.json(),
        json!([])
    );
    assert_eq!(
        app.client
            .get(&format!("/api/v1/projects/{pid}/invites"), o)
            .await
            .json(),
        json!([])
    );

    // Members: owner first.
    let members = app
        .client
        .get(&format!("/api/v1/projects/{pid}/members"), g)
        .await;
    assert_eq!(members.status, 200);
    let members = members.json();
    assert_eq!(members.as_array().unwrap().len(), 2);
    assert_eq!(members[0]["role"], "owner");
    assert_eq!(members[0]["user_id"], owner["id"]);
    assert_eq!(members[1]["email"], email("grace"));
    let grace_member_id = members[1]["id"].as_str().unwrap().to_owned();

    // Roles change; a viewer is refused writes.
    let res = app
        .client
        .put(
            &format!("/api/v1/projects/{pid}/members/{grace_member_id}"),
            o,
            &json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["role"], "viewer");
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/environments"),
            g,
            &json!({"name": "staging"}),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    let res = app
        .client
        .put(
            &format!("/api/v1/projects/{pid}"),
            g,
            &json!({"description": "x"}),
        )
        .await;
    assert_eq!(res.status, 403);
    // Nobody can grant owner through a role change.
    let res = app
        .client
        .put(
            &format!("/api/v1/projects/{pid}/members/{grace_member_id}"),
            o,
            &json!({"role": "owner"}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    // The owner's own membership cannot be changed or removed by role edits.
    let owner_member = members[0]["id"].as_str().unwrap();
    let res = app
        .client
        .put(
            &format!("/api/v1/projects/{pid}/members/{owner_member}"),
            o,
            &json!({"role": "admin"}),
        )
        .await;
    assert!(matches!(res.status, 400 | 403), "{}", res.text());

    // Transfer to a non-member is refused; to grace it works, old owner → admin.
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/transfer"),
            o,
            &json!({"new_owner_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/transfer"),
            g,
            &json!({"new_owner_id": grace["id"]}),
        )
        .await;
    assert_eq!(res.status, 403, "only the owner transfers");
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/transfer"),
            o,
            &json!({"new_owner_id": grace["id"]}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["owner_id"], grace["id"]);
    assert_eq!(res.json()["role"], "admin");
    let members = app
        .client
        .get(&format!("/api/v1/projects/{pid}/members"), g)
        .await
        .json();
    let roles: Vec<(Value, Value)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user_id"].clone(), m["role"].clone()))
        .collect();
    assert_eq!(
        roles,
        [
            (grace["id"].clone(), json!("owner")),
            (owner["id"].clone(), json!("admin"))
        ]
    );
    assert_eq!(
        app.client
            .get(&format!("/api/v1/projects/{pid}"), g)
            .await
            .json()["role"],
        "owner"
    );
    // The former owner, now admin, cannot delete the project; grace can.
    assert_eq!(
        app.client
            .delete(&format!("/api/v1/projects/{pid}"), o)
            .await
            .status,
        403
    );

    // The owner cannot leave; others can.
    let res = app
        .client
        .delete(
            &format!(
                "/api/v1/projects/{pid}/members/{}",
                grace["id"].as_str().unwrap()
            ),
            g,
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text());
    let res = app
        .client
        .delete(
            &format!(
                "/api/v1/projects/{pid}/members/{}",
                owner["id"].as_str().unwrap()
            ),
            o,
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(
        app.client
            .get(&format!("/api/v1/projects/{pid}"), o)
            .await
            .status,
        403
    );
}

async fn member_and_invite_errors(app: &TestApp) {
    let (_, ot) = register(app, &email("owner")).await;
    let o = Some(ot.as_str());
    let p = create_project(app, &ot, "team").await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let (bob, bt) = register(app, &email("bob")).await;
    let bob_id = bob["id"].as_str().unwrap();

    let path = format!("/api/v1/projects/{pid}/members");
    let cases = [
        (
            json!({"user_id": uuid::Uuid::now_v7(), "role": "member"}),
            404,
        ),
        (json!({"user_id": bob_id, "role": "owner"}), 400),
        (json!({"user_id": bob_id, "role": "superuser"}), 400),
        (json!({"user_id": "nope", "role": "member"}), 400),
        (json!({"user_id": bob_id}), 400),
        (json!({"user_id": bob_id, "role": "member", "id": "x"}), 400),
    ];
    for (body, status) in cases {
        let res = app.client.post(&path, o, &body).await;
        assert_eq!(res.status, status, "{body} → {}", res.text());
        assert!(res.json()["message"].is_string());
    }
    add_member(app, &ot, &pid, bob_id, "admin").await;
    let res = app
        .client
        .post(&path, o, &json!({"user_id": bob_id, "role": "member"}))
        .await;
    assert_eq!(res.status, 409, "{}", res.text());

    // An admin cannot invite or grant above admin, nor touch the owner.
    let b = Some(bt.as_str());
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/invites"),
            b,
            &json!({"email": email("x"), "role": "owner"}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    for (body, status) in [
        (json!({"email": "not-an-email", "role": "member"}), 400),
        (json!({"email": email("x"), "role": "boss"}), 400),
        (json!({"email": email("x")}), 400),
    ] {
        let res = app
            .client
            .post(&format!("/api/v1/projects/{pid}/invites"), b, &body)
            .await;
        assert_eq!(res.status, status, "{body} → {}", res.text());
    }
    // An existing member accepting an invite gets 409.
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/invites"),
            o,
            &json!({"email": email("bob"), "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 201);
    let token = res.json()["token"].as_str().unwrap().to_owned();
    let res = app
        .client
        .post(&format!("/api/v1/invites/{token}/accept"), b, &json!({}))
        .await;
    assert_eq!(res.status, 409, "{}", res.text());

    // Cancel an invite; cancelling twice is 404.
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/invites"),
            o,
            &json!({"email": email("carol"), "role": "viewer"}),
        )
        .await;
    let invite_id = res.json()["id"].as_str().unwrap().to_owned();
    let carol_token = res.json()["token"].as_str().unwrap().to_owned();
    let res = app
        .client
        .delete(&format!("/api/v1/projects/{pid}/invites/{invite_id}"), o)
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(
        app.client
            .delete(&format!("/api/v1/projects/{pid}/invites/{invite_id}"), o)
            .await
            .status,
        404
    );
    assert_eq!(
        app.client
            .get(&format!("/api/v1/invites/{carol_token}"), None)
            .await
            .status,
        404
    );

    // An expired invite is 410, and a new one for the same email may replace it.
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/invites"),
            o,
            &json!({"email": email("dave"), "role": "viewer"}),
        )
        .await;
    let dave_token = res.json()["token"].as_str().unwrap().to_owned();
    let past = match app.backend {
        Backend::Sqlite => "'2000-01-01T00:00:00.000000Z'",
        Backend::Postgres => "'2000-01-01T00:00:00Z'::timestamptz",
    };
    let n = app
        .exec_sql(&format!(
            "UPDATE invites SET expires_at = {past} WHERE email = '{}'",
            email("dave")
        ))
        .await;
    assert_eq!(n, 1);
    assert_eq!(
        app.client
            .get(&format!("/api/v1/invites/{dave_token}"), None)
            .await
            .status,
        410
    );
    let (_, dt) = register(app, &email("dave")).await;
    let res = app
        .client
        .post(
            &format!("/api/v1/invites/{dave_token}/accept"),
            Some(&dt),
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 410, "{}", res.text());
    assert_eq!(
        app.client.get("/api/v1/me/invites", Some(&dt)).await.json(),
        json!([])
    );
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/invites"),
            o,
            &json!({"email": email("dave"), "role": "viewer"}),
        )
        .await;
    assert_eq!(
        res.status,
        201,
        "an expired invite does not block a new one: {}",
        res.text()
    );

    // Unknown member ids.
    let res = app
        .client
        .put(
            &format!("/api/v1/projects/{pid}/members/{}", uuid::Uuid::now_v7()),
            o,
            &json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(
        app.client
            .delete(&format!("/api/v1/projects/{pid}/members/not-a-uuid"), o)
            .await
            .status,
        400
    );
}

async fn invite_tokens_are_stored_hashed(app: &TestApp) {
    let (_, ot) = register(app, &email("owner")).await;
    let p = create_project(app, &ot, "team").await;
    let pid = p["id"].as_str().unwrap();
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/invites"),
            Some(&ot),
            &json!({"email": email("g"), "role": "member"}),
        )
        .await;
    let token = res.json()["token"].as_str().unwrap().to_owned();
    // No row holds the token itself.
    let n = app
        .exec_sql(&format!(
            "UPDATE invites SET role = role WHERE token_hash = '{token}'"
        ))
        .await;
    assert_eq!(n, 0, "the plaintext token is not stored");
    let n = app
        .exec_sql("UPDATE invites SET role = role WHERE length(token_hash) = 64")
        .await;
    assert_eq!(n, 1, "a SHA-256 hex digest is");
}

on_both_backends!(
    invite_accept_roles_and_transfer,
    member_and_invite_errors,
    invite_tokens_are_stored_hashed,
);
