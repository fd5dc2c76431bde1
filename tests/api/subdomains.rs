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
        .await
        .assert_success();

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
    let envs = app
        .client
        .get(&format!("/api/v1/projects/{pid}/environments"), t)
        .await
        .json();
    assert_eq!(d["environment"]["id"], envs[0]["id"]);
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
        .await
        .assert_success();

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
    res.assert_error(404, "Not Found", "Subdomain not found");
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
        .await
        .assert_success();

    // 400 for three causes the seed lists under one status: missing
    // fields, an invalid name, a duplicate. The message tells them apart.
    let sd = |v: &str, why: &str| format!("name: '{v}' is not a valid subdomain name: {why}");
    const CHARS: &str = "only ASCII letters, digits and hyphens are allowed";
    const DUPLICATE: &str =
        "A subdomain named 'blog' with this parent domain already exists in this environment";
    let cases = [
        (
            json!({}),
            "Invalid JSON body: missing field `name`".to_owned(),
        ),
        (
            json!({"positionX": 1}),
            "Invalid JSON body: missing field `name`".to_owned(),
        ),
        (json!({"name": ""}), sd("", "it must not be empty")),
        (
            json!({"name": "-blog"}),
            sd("-blog", "it must not start with a hyphen"),
        ),
        (
            json!({"name": "blog-"}),
            sd("blog-", "it must not end with a hyphen"),
        ),
        (json!({"name": "my blog"}), sd("my blog", CHARS)),
        (json!({"name": "blog.example"}), sd("blog.example", CHARS)),
        (json!({"name": "b_log"}), sd("b_log", CHARS)),
        (
            json!({"name": "x".repeat(64)}),
            sd(&"x".repeat(64), "it must be at most 63 characters long"),
        ),
        (
            json!({"name": 42}),
            "name: invalid type: integer `42`, expected a string".to_owned(),
        ),
        (json!({"name": "BLOG"}), DUPLICATE.to_owned()),
        (
            json!({"name": "ok", "parentDomain": "not a domain"}),
            "parentDomain: 'not a domain' is not a valid host name: ".to_owned(),
        ),
        (
            json!({"name": "ok", "id": 7}),
            "id: unknown field `id`".to_owned(),
        ),
        (
            json!({"name": "ok", "status": "active"}),
            "status: unknown field `status`".to_owned(),
        ),
        (
            json!({"name": "ok", "positionX": "left"}),
            "positionX: invalid type: string \"left\", expected f64".to_owned(),
        ),
    ];
    for (body, message) in cases {
        let res = app
            .client
            .post(&format!("{base}/subdomains"), t, &body)
            .await;
        res.assert_error_starting(400, "Bad Request", &message);
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
    res.assert_error(400, "Bad Request", DUPLICATE);
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
        for res in [
            app.client.get(&format!("{base}/subdomains/{bad}"), t).await,
            app.client
                .patch(
                    &format!("{base}/subdomains/{bad}"),
                    t,
                    &json!({"positionX": 1}),
                )
                .await,
        ] {
            res.assert_error(400, "Bad Request", "Invalid subdomain ID");
        }
    }
    let server = resource(app, &token, &base, "instance", "web-1").await;
    for id in [server, 424_242] {
        app.client
            .get(&format!("{base}/subdomains/{id}"), t)
            .await
            .assert_error(404, "Not Found", "Subdomain not found");
        app.client
            .patch(
                &format!("{base}/subdomains/{id}"),
                t,
                &json!({"positionX": 1}),
            )
            .await
            .assert_error(404, "Not Found", "Subdomain not found");
    }

    // 401, 403, 404 for the scope.
    app.client
        .get(&format!("{base}/subdomains"), None)
        .await
        .assert_error(401, "Unauthorized", "Missing Authorization header");
    app.client
        .post(&format!("{base}/subdomains"), None, &json!({"name": "x"}))
        .await
        .assert_error(401, "Unauthorized", "Missing Authorization header");
    let (_, stranger) = register(app, &email("stranger")).await;
    let res = app
        .client
        .get(&format!("{base}/subdomains"), Some(&stranger))
        .await;
    res.assert_error(403, "Forbidden", "Project access denied");
    let res = app
        .client
        .get("/api/no-such-project/production/subdomains", t)
        .await;
    res.assert_error(404, "Not Found", "Project not found");
    let res = app
        .client
        .get("/api/my-project/no-such-env/subdomains", t)
        .await;
    res.assert_error(404, "Not Found", "Environment not found");
    // Renaming is not a subdomain update.
    let blog = app
        .client
        .get(&format!("{base}/subdomains"), t)
        .await
        .json()["data"][0]["id"]
        .as_i64()
        .unwrap();
    let res = app
        .client
        .patch(
            &format!("{base}/subdomains/{blog}"),
            t,
            &json!({"name": "x"}),
        )
        .await;
    res.assert_error_starting(400, "Bad Request", "name: unknown field `name`");
    let res = app
        .client
        .patch(
            &format!("{base}/subdomains/{blog}"),
            t,
            &json!({"parentDomain": "bad domain"}),
        )
        .await;
    res.assert_error_starting(
        400,
        "Bad Request",
        "parentDomain: 'bad domain' is not a valid host name: ",
    );
    // Moving a subdomain onto a taken name + parent is the duplicate 400.
    let res = app
        .client
        .patch(
            &format!("{base}/subdomains/{blog}"),
            t,
            &json!({"parentDomain": "example.com"}),
        )
        .await;
    res.assert_error(400, "Bad Request", DUPLICATE);
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
        if res.status == 201 {
            created += 1;
        } else {
            res.assert_error(
                400,
                "Bad Request",
                "A subdomain named 'blog' with this parent domain already exists in this environment",
            );
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
