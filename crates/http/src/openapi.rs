//! The OpenAPI document, generated from the handlers' annotations, served at
//! `/openapi.json` and browsable at `/docs` (Swagger UI assets are vendored
//! into the binary: no CDN, no external request).

use actix_web::{HttpResponse, get, web};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

/// The whole API.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "patchbay", description = "Self-hostable control-plane REST API: accounts, projects, members, invites, environments, resources, subdomains, resource connections under allowed-connection rules, and credential connections sealed at rest with a connectivity tester."),
    paths(
        crate::ops::healthz,
        crate::ops::readyz,
        crate::ops::metrics,
        crate::auth::register,
        crate::auth::login,
        crate::auth::me,
        crate::projects::list,
        crate::projects::create,
        crate::projects::get_one,
        crate::projects::update,
        crate::projects::delete_one,
        crate::projects::upload_icon,
        crate::projects::delete_icon,
        crate::projects::serve_icon,
        crate::members::list,
        crate::members::add,
        crate::members::update_role,
        crate::members::remove,
        crate::members::transfer,
        crate::invites::list,
        crate::invites::create,
        crate::invites::cancel,
        crate::invites::mine,
        crate::invites::show,
        crate::invites::accept,
        crate::environments::list,
        crate::environments::create,
        crate::environments::get_one,
        crate::environments::update,
        crate::environments::delete_one,
        crate::environments::set_default,
        crate::environments::clone_one,
        crate::allowed_connections::list,
        crate::allowed_connections::create,
        crate::allowed_connections::delete_one,
        crate::resources::list,
        crate::resources::create,
        crate::resources::get_one,
        crate::resources::update,
        crate::resources::delete_one,
        crate::resources::restore,
        crate::resources::connections_of,
        crate::resources::graph,
        crate::subdomains::create,
        crate::subdomains::list,
        crate::subdomains::get_one,
        crate::subdomains::update,
        crate::resource_connections::create,
        crate::resource_connections::list,
        crate::resource_connections::get_one,
        crate::resource_connections::update,
        crate::resource_connections::delete_one,
        crate::credential_connections::types,
        crate::credential_connections::list,
        crate::credential_connections::create,
        crate::credential_connections::test_unsaved,
        crate::credential_connections::get_one,
        crate::credential_connections::replace,
        crate::credential_connections::delete_one,
        crate::credential_connections::test,
        crate::credential_connections::used_by,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&BearerAuth, &ExtractorAnswers),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "projects", description = "Projects and their icons (seed 004)"),
        (name = "members", description = "Project members and ownership transfer (seed 004)"),
        (name = "invites", description = "Invitations by email (seed 004)"),
        (name = "environments", description = "Environments, set-default and clone (seed 004)"),
        (name = "resources", description = "The unified resources API and the canvas graph (seeds 000, 002)"),
        (name = "subdomains", description = "Subdomain management (seed 002)"),
        (name = "resource-connections", description = "Resource connections and allowed-connection rules (seeds 000, 001)"),
        (name = "credential-connections", description = "Credential connections, sealed at rest, and the connectivity tester (seed 003)"),
        (name = "ops", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The answers the extractors give before any handler runs, added to every
/// operation they apply to unless the handler documents them itself:
/// `ApiJson` bodies are 400 (not JSON, wrong fields), 413 (over
/// [`crate::JSON_BODY_LIMIT`]) and 415 (not `application/json`); a typed
/// path parameter (a UUID or an integer) or any query string is 400 when
/// malformed or unknown. One rule here instead of three lines in each of
/// sixty annotations, so a new route cannot forget them.
struct ExtractorAnswers;

impl ExtractorAnswers {
    fn add(op: &mut Operation, status: &str, description: &str) {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                        )
                        .build(),
                )
            });
    }

    fn typed_path_or_query(op: &Operation) -> bool {
        op.parameters
            .iter()
            .flatten()
            .any(|p| match p.parameter_in {
                ParameterIn::Query => true,
                ParameterIn::Path => serde_json::to_value(&p.schema)
                    .is_ok_and(|s| s["format"] == "uuid" || s["type"] == "integer"),
                _ => false,
            })
    }
}

impl Modify for ExtractorAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                if op.request_body.is_some() {
                    Self::add(op, "400", "Malformed body, wrong or unknown field");
                    Self::add(op, "413", "Body over 256 KiB");
                    Self::add(op, "415", "Body not application/json");
                }
                if Self::typed_path_or_query(op) {
                    Self::add(op, "400", "Malformed path or query parameter");
                }
            }
        }
    }
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi_json).service(docs_redirect).service(
        SwaggerUi::new("/docs/{_:.*}")
            // validator_url "none": Swagger UI would otherwise call an
            // external validator service from the browser.
            .config(Config::new(["/openapi.json"]).validator_url("none")),
    );
}

#[get("/openapi.json")]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

#[get("/docs")]
async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("location", "/docs/"))
        .finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    //! The document tells the truth a client generator relies on: one
    //! operation per `operationId`, path parameters exactly those of the
    //! path, 401 wherever a token is needed, and the paging limits the
    //! server enforces.

    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::Value;
    use utoipa::OpenApi as _;

    use super::ApiDoc;

    /// Every operation: (method, path, operation object).
    fn operations() -> Vec<(String, String, Value)> {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if [
                    "get", "put", "post", "delete", "options", "head", "patch", "trace",
                ]
                .contains(&method.as_str())
                {
                    out.push((method.clone(), path.clone(), op.clone()));
                }
            }
        }
        assert!(out.len() >= 60, "only {} operations", out.len());
        out
    }

    fn path_parameters(path: &str) -> Vec<String> {
        path.split('{')
            .skip(1)
            .map(|rest| rest.split('}').next().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn operation_ids_are_unique_and_camel_case() {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (method, path, op) in operations() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
                .to_owned();
            assert!(
                id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{method} {path}: operationId {id:?} is not camelCase"
            );
            if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
                panic!("operationId {id:?} is used by {other} and {method} {path}");
            }
        }
    }

    #[test]
    fn declared_path_parameters_are_exactly_the_paths() {
        for (method, path, op) in operations() {
            let in_path = path_parameters(&path);
            let unique: BTreeSet<&String> = in_path.iter().collect();
            assert_eq!(unique.len(), in_path.len(), "{path} repeats a parameter");
            let declared: Vec<String> = op["parameters"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(p["required"], true, "{method} {path}: {p} not required");
                    p["name"].as_str().unwrap().to_owned()
                })
                .collect();
            let mut want = in_path.clone();
            want.sort();
            let mut got = declared.clone();
            got.sort();
            assert_eq!(
                got, want,
                "{method} {path} declares path parameters {declared:?}"
            );
        }
    }

    #[test]
    fn every_authenticated_operation_documents_401() {
        let mut authenticated = 0;
        for (method, path, op) in operations() {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if secured {
                authenticated += 1;
                assert!(
                    op["responses"]["401"].is_object(),
                    "{method} {path} needs a token but documents no 401"
                );
            }
        }
        assert!(authenticated >= 50, "only {authenticated} authenticated");
    }

    /// What every operation of a kind answers before its handler runs: a
    /// body that is not JSON (400), too large (413) or of another media
    /// type (415); a malformed id or paging parameter (400).
    #[test]
    fn every_operation_documents_what_its_extractors_answer() {
        let mut missing = Vec::new();
        for (method, path, op) in operations() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut want: Vec<&str> = Vec::new();
            if op["requestBody"].is_object() {
                want.extend(["400", "413", "415"]);
            }
            let typed_path_param = params.iter().any(|p| {
                p["in"] == "path"
                    && (p["schema"]["format"] == "uuid" || p["schema"]["type"] == "integer")
            });
            let query = params.iter().any(|p| p["in"] == "query");
            if typed_path_param || query {
                want.push("400");
            }
            for status in want {
                if !op["responses"][status].is_object() {
                    missing.push(format!("{method} {path}: {status}"));
                }
            }
        }
        assert!(missing.is_empty(), "undocumented answers: {missing:#?}");
    }

    /// A field that may be left out but not cleared (`non_null` in the
    /// DTOs: `null` is a 400) is not nullable in the document.
    #[test]
    fn fields_that_refuse_null_are_not_nullable() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let schemas = &doc["components"]["schemas"];
        for (schema, field) in [
            ("UpdateProjectRequest", "name"),
            ("UpdateProjectRequest", "single_server_mode"),
            ("UpdateProjectRequest", "auto_error_tracking_enabled"),
            ("UpdateEnvironmentRequest", "name"),
            ("UpdateEnvironmentRequest", "type"),
            ("UpdateConnectionRequest", "status"),
            ("UpdateResourceRequest", "name"),
            ("UpdateResourceRequest", "config"),
            ("UpdateResourceRequest", "positionX"),
            ("UpdateResourceRequest", "position"),
            ("UpdateSubdomainRequest", "positionY"),
        ] {
            let property = &schemas[schema]["properties"][field];
            assert!(property.is_object(), "{schema}.{field} missing");
            let text = property.to_string();
            assert!(
                !text.contains("\"null\""),
                "{schema}.{field} is nullable: {text}"
            );
        }
        // While the clearable ones stay nullable.
        let display = schemas["UpdateProjectRequest"]["properties"]["display_name"].to_string();
        assert!(display.contains("\"null\""), "{display}");
    }

    /// Resources, subdomains, resource connections and allowed-connection
    /// rules have positive integer ids: anything below 1 is a 400.
    #[test]
    fn integer_path_ids_are_positive() {
        let mut ids = 0;
        for (method, path, op) in operations() {
            for p in op["parameters"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if p["in"] == "path" && p["schema"]["type"] == "integer" {
                    ids += 1;
                    assert_eq!(p["schema"]["minimum"], 1, "{method} {path}: {p}");
                }
            }
        }
        assert!(ids >= 11, "only {ids} integer path ids");
    }

    #[test]
    fn paging_parameters_carry_the_enforced_limits() {
        let mut paged = 0;
        for (method, path, op) in operations() {
            for p in op["parameters"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let schema = &p["schema"];
                match p["name"].as_str() {
                    Some("page") => {
                        paged += 1;
                        assert_eq!(schema["minimum"], 1, "{method} {path}: {p}");
                    }
                    Some("per_page") => {
                        assert_eq!(schema["minimum"], 1, "{method} {path}: {p}");
                        assert_eq!(schema["maximum"], 100, "{method} {path}: {p}");
                    }
                    _ => {}
                }
            }
        }
        assert!(paged >= 10, "only {paged} paged operations");
    }
}
