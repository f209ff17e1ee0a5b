//! The methods each route answers, for the `Allow` header that every 405 response carries
//! (RFC 9110, section 15.5.6). The router knows that a path exists but not which methods it
//! takes, so the table is built from the same operations and routes the router is built from.

use poem::http::Method;
use poem_openapi::registry::MetaApi;

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

#[derive(Debug, PartialEq, Eq)]
enum Segment {
    /// Matches itself.
    Literal(String),
    /// `{name}` or `:name`: matches any one segment.
    Param,
    /// `*name`: matches the rest of the path.
    Rest,
}

#[derive(Debug)]
struct Entry {
    template: Vec<Segment>,
    methods: Vec<Method>,
}

/// Route templates and the methods each answers.
#[derive(Debug, Default)]
pub struct AllowedMethods {
    entries: Vec<Entry>,
}

fn parse_template(template: &str) -> Vec<Segment> {
    template
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.starts_with('*') {
                Segment::Rest
            } else if s.starts_with(':') || (s.starts_with('{') && s.ends_with('}')) {
                Segment::Param
            } else {
                Segment::Literal(s.to_owned())
            }
        })
        .collect()
}

impl AllowedMethods {
    /// The methods of every OpenAPI operation.
    pub fn from_api(apis: &[MetaApi]) -> Self {
        let mut table = Self::default();
        for path in apis.iter().flat_map(|api| &api.paths) {
            for operation in &path.operations {
                table.add(&path.path, operation.method.clone());
            }
        }
        table
    }

    /// Records that `template` (`/a/{param}`, `/a/:param` or `/a/*rest`) answers `method`;
    /// a route that answers GET answers HEAD too.
    pub fn add(&mut self, template: &str, method: Method) {
        let template = parse_template(template);
        let index = match self.entries.iter().position(|e| e.template == template) {
            Some(index) => index,
            None => {
                self.entries.push(Entry {
                    template,
                    methods: Vec::new(),
                });
                self.entries.len() - 1
            }
        };
        let methods = &mut self.entries[index].methods;
        let implied = (method == Method::GET).then_some(Method::HEAD);
        for method in std::iter::once(method).chain(implied) {
            if !methods.contains(&method) {
                methods.push(method);
            }
        }
        methods.sort_by_key(|m| ORDER.iter().position(|o| o == m).unwrap_or(ORDER.len()));
    }

    /// The `Allow` value for a request path, e.g. `GET, HEAD, POST`; literal segments win over
    /// parameters, as in the router. `None` when no route has this path.
    pub fn for_path(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.entries
            .iter()
            .filter_map(|entry| Some((matches(&entry.template, &segments)?, entry)))
            .max_by_key(|(literals, _)| *literals)
            .map(|(_, entry)| {
                entry
                    .methods
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
    }
}

/// How many literal segments matched, or `None` when the template does not match.
fn matches(template: &[Segment], segments: &[&str]) -> Option<usize> {
    let mut literals = 0;
    for (index, part) in template.iter().enumerate() {
        match part {
            Segment::Rest => return (segments.len() > index).then_some(literals),
            Segment::Param => {
                segments.get(index)?;
            }
            Segment::Literal(literal) => {
                if segments.get(index)? != literal {
                    return None;
                }
                literals += 1;
            }
        }
    }
    (template.len() == segments.len()).then_some(literals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> AllowedMethods {
        let mut table = AllowedMethods::default();
        table.add("/api/{user_id}/tasks", Method::POST);
        table.add("/api/{user_id}/tasks", Method::GET);
        table.add("/api/{user_id}/tasks/{id}", Method::DELETE);
        table.add("/api/{user_id}/tasks/{id}", Method::PUT);
        table.add("/api/{user_id}/tasks/{id}/complete", Method::PATCH);
        table.add("/docs/*path", Method::GET);
        table.add("/docs/index.html", Method::PUT);
        table
    }

    #[test]
    fn lists_the_methods_of_the_matching_template_in_order() {
        let table = table();
        assert_eq!(
            table.for_path("/api/alice/tasks").as_deref(),
            Some("GET, HEAD, POST")
        );
        assert_eq!(
            table.for_path("/api/alice/tasks/7").as_deref(),
            Some("PUT, DELETE")
        );
        assert_eq!(
            table.for_path("/api/alice/tasks/7/complete").as_deref(),
            Some("PATCH")
        );
        assert_eq!(table.for_path("/docs/a/b.js").as_deref(), Some("GET, HEAD"));
    }

    #[test]
    fn literal_segments_win_and_unknown_paths_have_none() {
        let table = table();
        assert_eq!(table.for_path("/docs/index.html").as_deref(), Some("PUT"));
        assert_eq!(table.for_path("/docs"), None);
        assert_eq!(table.for_path("/api/alice"), None);
        assert_eq!(table.for_path("/api/alice/tasks/7/complete/x"), None);
    }
}
