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
    dup.assert_error(
        409,
        "Conflict",
        "A pending invite for this email already exists",
    );

    // The token shows the invite without an account.
    let shown = app
        .client
        .get(&format!("/api/v1/invites/{token}"), None)
        .await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert_eq!(shown.json()["project"]["name"], "team");
    assert_eq!(shown.json()["role"], "member");
    assert_eq!(shown.json()["email"], email("grace"));
    // Seven days from now (SPEC §5's default).
    let expires =
        chrono::DateTime::parse_from_rfc3339(shown.json()["expires_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc);
    let week = chrono::Utc::now() + chrono::Duration::days(7);
    assert!(
        (expires - week).num_seconds().abs() < 120,
        "expires_at {expires}, expected about {week}"
    );
    app.client
        .get("/api/v1/invites/not-a-real-token", None)
        .await
        .assert_error(404, "Not Found", "Invite not found");

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
    res.assert_error(
        403,
        "Forbidden",
        "This invite was sent to a different email address",
    );
    app.client
        .post(&format!("/api/v1/invites/{token}/accept"), None, &json!({}))
        .await
        .assert_error(401, "Unauthorized", "Missing Authorization header");

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
    // Used and expired invites are both 410; the message says which.
    again.assert_error(410, "Gone", "This invite has already been accepted");
    app.client
        .get(&format!("/api/v1/invites/{token}"), None)
        .await
        .assert_error(410, "Gone", "This invite has already been accepted");
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
    res.assert_error_starting(403, "Forbidden", "Your role (viewer) is not allowed to ");
    let res = app
        .client
        .put(
            &format!("/api/v1/projects/{pid}"),
            g,
            &json!({"description": "x"}),
        )
        .await;
    res.assert_error_starting(403, "Forbidden", "Your role (viewer) is not allowed to ");
    // Nobody can grant owner through a role change.
    let res = app
        .client
        .put(
            &format!("/api/v1/projects/{pid}/members/{grace_member_id}"),
            o,
            &json!({"role": "owner"}),
        )
        .await;
    res.assert_error(
        400,
        "Bad Request",
        "The owner role cannot be granted; transfer ownership instead",
    );
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
    res.assert_error(
        403,
        "Forbidden",
        "The project owner's role cannot be changed; transfer ownership instead",
    );

    // Transfer to a non-member is refused; to grace it works, old owner → admin.
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/transfer"),
            o,
            &json!({"new_owner_id": uuid::Uuid::now_v7()}),
        )
        .await;
    res.assert_error(
        400,
        "Bad Request",
        "The new owner must be a member of the project",
    );
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/transfer"),
            o,
            &json!({"new_owner_id": owner["id"]}),
        )
        .await;
    res.assert_error(
        400,
        "Bad Request",
        "The new owner must be a member other than the current owner",
    );
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/transfer"),
            g,
            &json!({"new_owner_id": grace["id"]}),
        )
        .await;
    res.assert_error_starting(403, "Forbidden", "Your role (viewer) is not allowed to ");
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
    // The former owner, now admin, cannot delete the project.
    app.client
        .delete(&format!("/api/v1/projects/{pid}"), o)
        .await
        .assert_error_starting(403, "Forbidden", "Your role (admin) is not allowed to ");

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
    res.assert_error(
        409,
        "Conflict",
        "The project owner cannot leave the project; transfer ownership first",
    );
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
    app.client
        .get(&format!("/api/v1/projects/{pid}"), o)
        .await
        .assert_error(403, "Forbidden", "Project access denied");
}

async fn member_and_invite_errors(app: &TestApp) {
    let (_, ot) = register(app, &email("owner")).await;
    let o = Some(ot.as_str());
    let p = create_project(app, &ot, "team").await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let (bob, bt) = register(app, &email("bob")).await;
    let bob_id = bob["id"].as_str().unwrap();

    let path = format!("/api/v1/projects/{pid}/members");
    const ROLES: &str = "expected one of: admin, member, viewer";
    let cases = [
        (
            json!({"user_id": uuid::Uuid::now_v7(), "role": "member"}),
            404,
            "Not Found",
            "User not found".to_owned(),
        ),
        (
            json!({"user_id": bob_id, "role": "owner"}),
            400,
            "Bad Request",
            "The owner role cannot be granted; transfer ownership instead".to_owned(),
        ),
        (
            json!({"user_id": bob_id, "role": "superuser"}),
            400,
            "Bad Request",
            format!("role: 'superuser' is not a valid role; {ROLES}"),
        ),
        (
            json!({"user_id": "nope", "role": "member"}),
            400,
            "Bad Request",
            "user_id: UUID parsing failed".to_owned(),
        ),
        (
            json!({"user_id": bob_id}),
            400,
            "Bad Request",
            "Invalid JSON body: missing field `role`".to_owned(),
        ),
        (
            json!({"user_id": bob_id, "role": "member", "id": "x"}),
            400,
            "Bad Request",
            "id: unknown field `id`".to_owned(),
        ),
    ];
    for (body, status, error, message) in cases {
        let res = app.client.post(&path, o, &body).await;
        res.assert_error_starting(status, error, &message);
    }
    add_member(app, &ot, &pid, bob_id, "admin").await;
    let res = app
        .client
        .post(&path, o, &json!({"user_id": bob_id, "role": "member"}))
        .await;
    res.assert_error(
        409,
        "Conflict",
        "The user is already a member of this project",
    );

    // An admin cannot invite or grant above admin, nor touch the owner.
    let b = Some(bt.as_str());
    let owner_id = app.client.get("/api/v1/me", o).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.client
        .delete(&format!("{path}/{owner_id}"), b)
        .await
        .assert_error(403, "Forbidden", "The project owner cannot be removed");
    app.client
        .put(&format!("{path}/{owner_id}"), b, &json!({"role": "viewer"}))
        .await
        .assert_error(
            403,
            "Forbidden",
            "The project owner's role cannot be changed; transfer ownership instead",
        );
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/invites"),
            b,
            &json!({"email": email("x"), "role": "owner"}),
        )
        .await;
    res.assert_error(
        400,
        "Bad Request",
        "The owner role cannot be granted; transfer ownership instead",
    );
    for (body, message) in [
        (
            json!({"email": "not-an-email", "role": "member"}),
            "email: 'not-an-email' is not a valid email address: it must contain exactly one '@'"
                .to_owned(),
        ),
        (
            json!({"email": email("x"), "role": "boss"}),
            format!("role: 'boss' is not a valid role; {ROLES}"),
        ),
        (
            json!({"email": email("x")}),
            "Invalid JSON body: missing field `role`".to_owned(),
        ),
    ] {
        let res = app
            .client
            .post(&format!("/api/v1/projects/{pid}/invites"), b, &body)
            .await;
        res.assert_error(400, "Bad Request", &message);
    }
    // Inviting an existing member (the owner too, in any spelling of the
    // email) is refused at once, and leaves no pending invite.
    for who in ["bob", "Bob", "owner"] {
        app.client
            .post(
                &format!("/api/v1/projects/{pid}/invites"),
                o,
                &json!({"email": email(who), "role": "viewer"}),
            )
            .await
            .assert_error(
                409,
                "Conflict",
                "The user is already a member of this project",
            );
    }
    let pending = app
        .client
        .get(&format!("/api/v1/projects/{pid}/invites"), o)
        .await
        .json();
    assert!(
        !pending.to_string().contains(&email("bob")),
        "no invite was left pending: {pending}"
    );
    // Someone who joins another way after being invited gets 409 on accept.
    let (erin, et) = register(app, &email("erin")).await;
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/invites"),
            o,
            &json!({"email": email("erin"), "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let token = res.json()["token"].as_str().unwrap().to_owned();
    add_member(app, &ot, &pid, erin["id"].as_str().unwrap(), "viewer").await;
    let res = app
        .client
        .post(
            &format!("/api/v1/invites/{token}/accept"),
            Some(et.as_str()),
            &json!({}),
        )
        .await;
    res.assert_error(409, "Conflict", "You are already a member of this project");

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
    app.client
        .delete(&format!("/api/v1/projects/{pid}/invites/{invite_id}"), o)
        .await
        .assert_error(404, "Not Found", "Invite not found");
    app.client
        .get(&format!("/api/v1/invites/{carol_token}"), None)
        .await
        .assert_error(404, "Not Found", "Invite not found");

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
    app.client
        .get(&format!("/api/v1/invites/{dave_token}"), None)
        .await
        .assert_error(410, "Gone", "This invite has expired");
    let (_, dt) = register(app, &email("dave")).await;
    let res = app
        .client
        .post(
            &format!("/api/v1/invites/{dave_token}/accept"),
            Some(&dt),
            &json!({}),
        )
        .await;
    res.assert_error(410, "Gone", "This invite has expired");
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
    res.assert_error(404, "Not Found", "Member not found");
    app.client
        .delete(
            &format!("/api/v1/projects/{pid}/members/{}", uuid::Uuid::now_v7()),
            o,
        )
        .await
        .assert_error(404, "Not Found", "Member not found");
    app.client
        .delete(&format!("/api/v1/projects/{pid}/members/not-a-uuid"), o)
        .await
        .assert_error_starting(400, "Bad Request", "Invalid path parameter: ");
    app.client
        .delete(
            &format!("/api/v1/projects/{pid}/invites/{}", uuid::Uuid::now_v7()),
            o,
        )
        .await
        .assert_error(404, "Not Found", "Invite not found");
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
