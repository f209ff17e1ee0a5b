//! The route table: each route's template (`/api/{user_id}/tasks/{id}`: the label of its logs
//! and metrics) and the methods it answers (the `Allow` header of its 405s), looked up by the
//! pattern poem's router records for the request it matched ([`PathPattern`]). The table
//! matches no path itself: the router does.
//!
//! Why a table at all, and not the router alone: poem-openapi registers its operations under
//! positional parameter names (`/api/:param0/tasks/:param1`), so the names a template shows
//! come from the OpenAPI meta; and poem's `RouteMethod` answers 405 without an `Allow` header,
//! nor can it be asked which methods it has. So the table is built once, from the same inputs
//! the router is built from (the operations' meta, then each other route as it is added).

use std::collections::HashMap;

use poem::PathPattern;
use poem::http::Method;
use poem_openapi::registry::{MetaApi, MetaParamIn, MetaSchemaRef, Registry};

use crate::http::strict::{expectation, resolve};

/// The order methods are listed in.
const ORDER: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];

/// Every route's template and methods, by the shape of its pattern.
#[derive(Debug, Default)]
pub(crate) struct RouteTable {
    routes: HashMap<String, Route>,
}

#[derive(Debug)]
struct Route {
    template: String,
    methods: Vec<Method>,
    /// The parameters each method's operation takes (none for the routes outside the API).
    params: Vec<(Method, Vec<Param>)>,
}

/// A parameter an operation declares.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    /// Its name (a path parameter's is the template's, e.g. `id`).
    pub(crate) name: String,
    /// Where it is given.
    pub(crate) location: MetaParamIn,
    /// Whether it may be given more than once (an array).
    pub(crate) repeatable: bool,
    /// What its value must be, in words (e.g. `must be a whole number from 1 to 1000`).
    pub(crate) expects: Option<String>,
}

impl RouteTable {
    /// The routes of every OpenAPI operation, with their parameters (`registry` holds the
    /// schemas their parameters refer to).
    pub(crate) fn from_api(apis: &[MetaApi], registry: &Registry) -> Self {
        let mut table = Self::default();
        for path in apis.iter().flat_map(|api| &api.paths) {
            for operation in &path.operations {
                table.add(&path.path, operation.method.clone());
                let params = operation
                    .params
                    .iter()
                    .map(|param| Param {
                        name: param.name.clone(),
                        location: param.in_type,
                        repeatable: is_array(&param.schema, registry),
                        expects: expectation(&param.schema, registry),
                    })
                    .collect();
                if let Some(route) = table.routes.get_mut(&shape(&path.path)) {
                    route.params.push((operation.method.clone(), params));
                }
            }
        }
        table
    }

    /// The parameters of the operation `method` names on the route of `pattern` (a HEAD is a
    /// GET); none for a route outside the API.
    pub(crate) fn params(&self, pattern: &PathPattern, method: &Method) -> &[Param] {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.route(pattern)
            .and_then(|route| route.params.iter().find(|(m, _)| m == method))
            .map_or(&[], |(_, params)| params.as_slice())
    }

    /// The parameter `name` (positional for a path parameter: `param1`) of the operation.
    pub(crate) fn param(
        &self,
        pattern: &PathPattern,
        method: &Method,
        name: &str,
    ) -> Option<&Param> {
        let name = self.param_name(pattern, name).unwrap_or(name);
        self.params(pattern, method).iter().find(|p| p.name == name)
    }

    /// Records that the route `path` (poem's `/a/:name/*rest` or OpenAPI's `/a/{name}`)
    /// answers `method`; a route that answers GET answers HEAD too.
    pub(crate) fn add(&mut self, path: &str, method: Method) {
        let route = self.routes.entry(shape(path)).or_insert_with(|| Route {
            template: template(path),
            methods: Vec::new(),
            params: Vec::new(),
        });
        let implied = (method == Method::GET).then_some(Method::HEAD);
        for method in std::iter::once(method).chain(implied) {
            if !route.methods.contains(&method) {
                route.methods.push(method);
            }
        }
        route
            .methods
            .sort_by_key(|m| ORDER.iter().position(|o| o == m).unwrap_or(ORDER.len()));
    }

    fn route(&self, pattern: &PathPattern) -> Option<&Route> {
        self.routes.get(&shape(&pattern.0))
    }

    /// The template of the route the router matched, e.g. `/api/{user_id}/tasks/{id}`.
    pub(crate) fn template(&self, pattern: &PathPattern) -> Option<&str> {
        self.route(pattern).map(|route| route.template.as_str())
    }

    /// The `Allow` value of the route the router matched, e.g. `GET, HEAD, POST`.
    pub(crate) fn allow(&self, pattern: &PathPattern) -> Option<String> {
        let methods: Vec<&str> = self
            .route(pattern)?
            .methods
            .iter()
            .map(Method::as_str)
            .collect();
        Some(methods.join(", "))
    }

    /// The name of a path parameter that poem-openapi calls by position (`param1`), e.g. `id`.
    pub(crate) fn param_name(&self, pattern: &PathPattern, positional: &str) -> Option<&str> {
        let index: usize = positional.strip_prefix("param")?.parse().ok()?;
        self.route(pattern)?
            .template
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .nth(index)
    }
}

/// Whether `schema` (or the schema it refers to) is an array.
fn is_array(schema: &MetaSchemaRef, registry: &Registry) -> bool {
    resolve(schema, registry).is_some_and(|schema| schema.ty == "array")
}

/// A parameter segment (`:name`, `{name}`), the final rest segment (`*name`, `{*name}`), or
/// `None` for a literal one.
fn parameter(segment: &str) -> Option<(&str, bool)> {
    let name = segment
        .strip_prefix(':')
        .or_else(|| segment.strip_prefix('{')?.strip_suffix('}'))
        .unwrap_or(segment);
    match name.strip_prefix('*') {
        Some(rest) => Some((rest, true)),
        None if name.len() < segment.len() => Some((name, false)),
        None => None,
    }
}

/// The path with its parameters' names left out: what a poem pattern and the OpenAPI path of
/// the same route have in common.
fn shape(path: &str) -> String {
    let segments: Vec<&str> = path
        .split('/')
        .map(|segment| match parameter(segment) {
            Some((_, true)) => "*",
            Some((_, false)) => ":",
            None => segment,
        })
        .collect();
    segments.join("/")
}

/// The path in OpenAPI's spelling, `{name}` for a parameter and `{*name}` for the rest.
fn template(path: &str) -> String {
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| match parameter(segment) {
            Some((name, true)) => format!("{{*{name}}}"),
            Some((name, false)) => format!("{{{name}}}"),
            None => segment.to_owned(),
        })
        .collect();
    segments.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        let mut table = RouteTable::default();
        table.add("/api/{user_id}/tasks", Method::POST);
        table.add("/api/{user_id}/tasks", Method::GET);
        table.add("/api/{user_id}/tasks/{id}", Method::DELETE);
        table.add("/api/{user_id}/tasks/{id}", Method::PUT);
        table.add("/docs/*path", Method::GET);
        table
    }

    fn pattern(pattern: &str) -> PathPattern {
        PathPattern(pattern.into())
    }

    #[test]
    fn the_router_patterns_map_to_templates_and_methods() {
        let table = table();
        let tasks = pattern("/api/:param0/tasks");
        assert_eq!(table.template(&tasks), Some("/api/{user_id}/tasks"));
        assert_eq!(table.allow(&tasks).as_deref(), Some("GET, HEAD, POST"));
        let task = pattern("/api/:param0/tasks/:param1");
        assert_eq!(table.template(&task), Some("/api/{user_id}/tasks/{id}"));
        assert_eq!(table.allow(&task).as_deref(), Some("PUT, DELETE"));
        assert_eq!(table.param_name(&task, "param0"), Some("user_id"));
        assert_eq!(table.param_name(&task, "param1"), Some("id"));
        assert_eq!(table.param_name(&task, "param2"), None);
        let docs = pattern("/docs/*path");
        assert_eq!(table.template(&docs), Some("/docs/{*path}"));
        assert_eq!(table.allow(&docs).as_deref(), Some("GET, HEAD"));
    }

    #[test]
    fn patterns_of_no_route_have_nothing() {
        let table = table();
        assert_eq!(
            table.template(&pattern("")),
            None,
            "what a nest records for no route"
        );
        assert_eq!(table.allow(&pattern("/api/:param0")), None);
        assert_eq!(table.template(&pattern("/api/tasks")), None);
    }
}
