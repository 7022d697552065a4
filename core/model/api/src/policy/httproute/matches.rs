//! The request matches of an HTTPRoute rule, with the Gateway API's closed
//! sets of match types and methods.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One request shape: all of its conditions must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteMatch {
    /// The request path; unset means a `/` prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathMatch>,
    /// Headers that must all match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<HeaderMatch>>,
    /// Query parameters that must all match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_params: Option<Vec<QueryParamMatch>>,
    /// The request method; unset means any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
}

/// A condition on the request path.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct PathMatch {
    /// How `value` is compared; unset means `PathPrefix`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<PathMatchType>,
    /// The path, prefix or pattern; unset means `/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// How a path is compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub enum PathMatchType {
    /// The whole path, exactly.
    Exact,
    /// A prefix of whole path segments (`/foo` matches `/foo/bar`, not
    /// `/foobar`).
    #[default]
    PathPrefix,
    /// A regular expression.
    RegularExpression,
}

/// A condition on one request header.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct HeaderMatch {
    /// How `value` is compared; unset means `Exact`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<HeaderMatchType>,
    /// Header name, compared without regard to case.
    pub name: String,
    /// The value or pattern.
    pub value: String,
}

/// A condition on one query parameter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct QueryParamMatch {
    /// How `value` is compared; unset means `Exact`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<HeaderMatchType>,
    /// Parameter name, compared exactly.
    pub name: String,
    /// The value or pattern.
    pub value: String,
}

/// How a header or query parameter value is compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub enum HeaderMatchType {
    /// The whole value, exactly.
    #[default]
    Exact,
    /// A regular expression.
    RegularExpression,
}

/// An HTTP method, spelled as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// `GET`: read a resource.
    Get,
    /// `HEAD`: read a resource's headers only.
    Head,
    /// `POST`: submit data.
    Post,
    /// `PUT`: replace a resource.
    Put,
    /// `DELETE`: remove a resource.
    Delete,
    /// `CONNECT`: open a tunnel.
    Connect,
    /// `OPTIONS`: ask what is allowed (CORS preflights).
    Options,
    /// `TRACE`: echo the request back.
    Trace,
    /// `PATCH`: change part of a resource.
    Patch,
}
