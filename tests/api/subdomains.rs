//! Subdomains (seed 002), every example and every listed error response.

use patchbay_tests::{TestApp, on_both_backends};
use serde_json::json;

use crate::support::{canvas, email, register, resource};

async fn seed_002_subdomains(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "my-project").await;
    let t = Some(token.as_str());
    // Give the project and environment display names, as the seed shows.
    let project = app.client.get("/api/v1/projects", t).await.json()[0].clone();
    let pid = project["id"].as_str().unwrap();
    app.client
        .put(
            &format!("/api/v1/projects/{pid}"),
            t,
            &json!({"display_name": "My Project"}),
        )
        .await;

    let res = app
        .client
        .post(
            &format!("{base}/subdomains"),
            t,
            &json!({"name": "Blog", "positionX": 100, "positionY": 200}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let body = res.json();
    assert_eq!(body["message"], "Subdomain created successfully");
    let d = &body["data"];
    assert_eq!(d["name"], "blog", "normalised to lowercase");
    assert_eq!(d["subdomainName"], "blog");
    assert_eq!(d["status"], "active");
    assert_eq!(d["position"], json!({"x": 100, "y": 200}));
    assert_eq!(
        d["project"],
        json!({"id": pid, "slug": "my-project", "name": "My Project"})
    );
    assert_eq!(d["environment"]["slug"], "production");
    assert_eq!(d["environment"]["name"], "Production");
    assert!(d["environment"]["id"].is_string());
    assert!(d["createdAt"].as_str().unwrap().ends_with('Z'));
    let blog = d["id"].as_i64().unwrap();

    // The seed's minimal body.
    let res = app
        .client
        .post(
            &format!("{base}/subdomains"),
            t,
            &json!({"name": "support"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["data"]["position"], json!({"x": 0, "y": 0}));
    app.client
        .post(
            &format!("{base}/subdomains"),
            t,
            &json!({"name": "docs", "positionX": 500.5, "positionY": 200}),
        )
        .await;

    let list = app.client.get(&format!("{base}/subdomains"), t).await;
    assert_eq!(list.status, 200);
    let list = list.json();
    assert_eq!(list["message"], "Subdomains retrieved successfully");
    assert_eq!(list["count"], 3);
    let names: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["blog", "support", "docs"]);
    assert_eq!(list["data"][2]["position"], json!({"x": 500.5, "y": 200}));
    for key in [
        "id",
        "name",
        "subdomainName",
        "status",
        "position",
        "createdAt",
        "updatedAt",
    ] {
        assert!(list["data"][0].get(key).is_some(), "{key}");
    }

    let got = app
        .client
        .get(&format!("{base}/subdomains/{blog}"), t)
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["message"], "Subdomain retrieved successfully");
    assert_eq!(got.json()["data"]["name"], "blog");
    assert_eq!(
        got.json()["data"]["updatedAt"],
        got.json()["data"]["createdAt"]
    );

    // The unified resources API lists them too.
    let res = app
        .client
        .get(&format!("{base}/resources?type=subdomain"), t)
        .await;
    assert_eq!(res.json()["count"], 3);
    assert_eq!(res.json()["data"][0]["type"], "subdomain");

    // PATCH position and parent domain.
    let res = app
        .client
        .patch(
            &format!("{base}/subdomains/{blog}"),
            t,
            &json!({"positionX": 10, "parentDomain": "Example.COM"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["data"]["position"], json!({"x": 10, "y": 200}));
    assert_eq!(res.json()["data"]["parentDomain"], "example.com");

    // Deleting goes through the resources API (soft delete).
    let res = app
        .client
        .delete(&format!("{base}/resources/{blog}"), t)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["message"], "Resource deleted successfully");
    let res = app
        .client
        .get(&format!("{base}/subdomains/{blog}"), t)
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(
        app.client
            .get(&format!("{base}/subdomains"), t)
            .await
            .json()["count"],
        2
    );
    // …and the name is free again.
    let res = app
        .client
        .post(&format!("{base}/subdomains"), t, &json!({"name": "blog"}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
}

async fn subdomain_errors(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "my-project").await;
    let t = Some(token.as_str());
    app.client
        .post(&format!("{base}/subdomains"), t, &json!({"name": "blog"}))
        .await;

    // 400: missing fields, invalid name format, duplicates (same name and parent).
    let cases = [
        json!({}),
        json!({"positionX": 1}),
        json!({"name": ""}),
        json!({"name": "-blog"}),
        json!({"name": "blog-"}),
        json!({"name": "my blog"}),
        json!({"name": "blog.example"}),
        json!({"name": "b_log"}),
        json!({"name": "x".repeat(64)}),
        json!({"name": 42}),
        json!({"name": "BLOG"}),
        json!({"name": "ok", "parentDomain": "not a domain"}),
        json!({"name": "ok", "id": 7}),
        json!({"name": "ok", "status": "active"}),
        json!({"name": "ok", "positionX": "left"}),
    ];
    for body in cases {
        let res = app
            .client
            .post(&format!("{base}/subdomains"), t, &body)
            .await;
        assert_eq!(res.status, 400, "{body} → {}", res.text());
        assert!(res.json()["error"].is_string() && res.json()["message"].is_string());
    }
    // Same name under another parent domain is a different subdomain.
    let res = app
        .client
        .post(
            &format!("{base}/subdomains"),
            t,
            &json!({"name": "blog", "parentDomain": "example.com"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = app
        .client
        .post(
            &format!("{base}/subdomains"),
            t,
            &json!({"name": "Blog", "parentDomain": "EXAMPLE.com"}),
        )
        .await;
    assert_eq!(res.status, 400, "duplicate name + parent: {}", res.text());
    assert_eq!(
        app.client
            .get(&format!("{base}/subdomains"), t)
            .await
            .json()["count"],
        2,
        "nothing else was created"
    );

    // Invalid ids → 400 "Invalid subdomain ID"; a non-subdomain resource → 404.
    for bad in ["abc", "-1", "0", "1.5", "99999999999999999999"] {
        let res = app.client.get(&format!("{base}/subdomains/{bad}"), t).await;
        assert_eq!(res.status, 400, "{bad}");
        assert_eq!(res.json()["message"], "Invalid subdomain ID");
    }
    let server = resource(app, &token, &base, "instance", "web-1").await;
    let res = app
        .client
        .get(&format!("{base}/subdomains/{server}"), t)
        .await;
    assert_eq!(res.status, 404, "{}", res.text());
    assert_eq!(
        app.client
            .get(&format!("{base}/subdomains/424242"), t)
            .await
            .status,
        404
    );

    // 401, 403, 404 for the scope.
    assert_eq!(
        app.client
            .get(&format!("{base}/subdomains"), None)
            .await
            .status,
        401
    );
    assert_eq!(
        app.client
            .post(&format!("{base}/subdomains"), None, &json!({"name": "x"}))
            .await
            .status,
        401
    );
    let (_, stranger) = register(app, &email("stranger")).await;
    let res = app
        .client
        .get(&format!("{base}/subdomains"), Some(&stranger))
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["message"], "Project access denied");
    let res = app
        .client
        .get("/api/no-such-project/production/subdomains", t)
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(res.json()["message"], "Project not found");
    let res = app
        .client
        .get("/api/my-project/no-such-env/subdomains", t)
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(res.json()["message"], "Environment not found");
    // Patching a name is not a subdomain update.
    let res = app
        .client
        .patch(
            &format!("{base}/subdomains/{server}"),
            t,
            &json!({"name": "x"}),
        )
        .await;
    assert_eq!(res.status, 400);
}

async fn concurrent_duplicate_subdomains_make_exactly_one(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "race").await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let client = app.client.clone();
        let token = token.clone();
        let url = format!("{base}/subdomains");
        tasks.push(actix_web::rt::spawn(async move {
            client
                .post(&url, Some(&token), &json!({"name": "blog"}))
                .await
        }));
    }
    let mut created = 0;
    for task in tasks {
        let res = task.await.unwrap();
        assert!(res.status < 500, "{} {}", res.status, res.text());
        match res.status {
            201 => created += 1,
            400 => {}
            other => panic!("unexpected {other}: {}", res.text()),
        }
    }
    assert_eq!(created, 1);
    let t = Some(token.as_str());
    assert_eq!(
        app.client
            .get(&format!("{base}/subdomains"), t)
            .await
            .json()["count"],
        1
    );
}

on_both_backends!(
    seed_002_subdomains,
    subdomain_errors,
    concurrent_duplicate_subdomains_make_exactly_one,
);
