//! `patchbay-bench-baseline LISTEN DATABASE_URL`: `GET /rc/{id}` reads one
//! `resource_connections` row by primary key (a prepared statement, cached
//! per pooled connection) and answers `{"data": {...}}` with the fields and
//! formats patchbay uses. No authentication, no scope: the cost floor of one
//! indexed lookup behind actix-web, for scripts/bench.sh's ratios.

use actix_web::{App, HttpResponse, HttpServer, get, web};
use chrono::{DateTime, SecondsFormat, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde::Serialize;
use uuid::Uuid;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    id: i64,
    user_id: Uuid,
    project_id: Uuid,
    environment_id: Uuid,
    source_resource_type: String,
    source_resource_id: i64,
    target_resource_type: String,
    target_resource_id: i64,
    status: String,
    connection_details: Option<serde_json::Value>,
    error_message: Option<String>,
    created_at: String,
    updated_at: String,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

const SQL: &str = "SELECT id, user_id, project_id, environment_id, source_type, source_id, \
    target_type, target_id, status, connection_details, error_message, created_at, updated_at \
    FROM resource_connections WHERE id = $1 AND deleted_at IS NULL";

#[get("/rc/{id}")]
async fn one(pool: web::Data<Pool>, id: web::Path<i64>) -> HttpResponse {
    let Ok(client) = pool.get().await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    let Ok(stmt) = client.prepare_cached(SQL).await else {
        return HttpResponse::InternalServerError().finish();
    };
    match client.query_opt(&stmt, &[&*id]).await {
        Ok(Some(r)) => HttpResponse::Ok().json(serde_json::json!({ "data": Connection {
            id: r.get(0),
            user_id: r.get(1),
            project_id: r.get(2),
            environment_id: r.get(3),
            source_resource_type: r.get(4),
            source_resource_id: r.get(5),
            target_resource_type: r.get(6),
            target_resource_id: r.get(7),
            status: r.get(8),
            connection_details: r.get(9),
            error_message: r.get(10),
            created_at: ts(r.get(11)),
            updated_at: ts(r.get(12)),
        }})),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(url)) = (args.next(), args.next()) else {
        eprintln!("usage: patchbay-bench-baseline LISTEN DATABASE_URL");
        std::process::exit(2);
    };
    let config: tokio_postgres::Config = url.parse().map_err(std::io::Error::other)?;
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    // The same pool size as patchbay's default (PATCHBAY_DB_MAX_CONNECTIONS).
    let pool = Pool::builder(manager)
        .max_size(10)
        .build()
        .map_err(std::io::Error::other)?;
    HttpServer::new(move || App::new().app_data(web::Data::new(pool.clone())).service(one))
        .bind(listen)?
        .run()
        .await
}
