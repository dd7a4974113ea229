//! The compiled HTTP router: routes sorted in Traefik's match order plus a Host/Path index.

mod index;
#[cfg(test)]
mod tests;
mod trie;

use std::cmp::Reverse;

use crate::rule::{Expr, RequestFacts};
use index::{Candidates, Index};

/// One router as configured: its name, parsed rule and payload.
#[derive(Debug, Clone)]
pub struct RouteSpec<T> {
    /// Router name; breaks priority ties (ascending byte order).
    pub name: String,
    /// The parsed rule.
    pub rule: Expr,
    /// Length in characters of the original rule text: the default priority.
    pub rule_len: usize,
    /// Explicit priority; `None` (or `Some(0)`, which Traefik reads as "unset")
    /// means "use `rule_len`".
    pub priority: Option<i64>,
    /// What a match returns (e.g. the compiled router/service handle).
    pub value: T,
}

impl<T> RouteSpec<T> {
    /// The priority used for ordering: the explicit one, else `rule_len`.
    pub fn effective_priority(&self) -> i64 {
        match self.priority {
            Some(p) if p != 0 => p,
            _ => i64::try_from(self.rule_len).unwrap_or(i64::MAX),
        }
    }
}

#[derive(Debug, Clone)]
struct Route<T> {
    name: String,
    rule: Expr,
    priority: i64,
    value: T,
}

/// Routes compiled for lookup.
///
/// # Match order
///
/// Routes are tried in this order, and the first whose rule matches wins:
///
/// 1. higher *effective priority* first, where the effective priority is the
///    explicit `priority` if set (and non-zero: Traefik treats 0 as unset),
///    else `rule_len`, the rule's length in characters (Traefik's default,
///    which makes longer, usually more specific rules win);
/// 2. on equal priority, longer `rule_len` first;
/// 3. then router name, ascending byte order;
/// 4. then the order given to [`Router::build`].
///
/// So a catch-all ``PathPrefix(`/`)`` with priority 1 never shadows
/// ``PathPrefix(`/api/users`)`` (priority 25 by default). Note that an
/// explicit small priority also ranks *below* every default-priority route
/// whose rule is longer than that number, as in Traefik.
///
/// # Lookup cost
///
/// `build` files every route under the hosts and paths its rule requires
/// (see the `index` module). `lookup` walks the request path through a byte
/// trie for the request's host and one for host-less routes, adds the routes
/// that require neither, and evaluates only those candidates, in match order.
/// The result is identical to trying every route in order, but the cost
/// follows the number of candidates, not the number of routes. `lookup` does
/// not allocate unless more than 32 routes are candidates.
#[derive(Debug, Clone)]
pub struct Router<T> {
    routes: Vec<Route<T>>,
    index: Index,
}

impl<T> Router<T> {
    /// Sort `routes` into match order and index them.
    pub fn build(routes: Vec<RouteSpec<T>>) -> Router<T> {
        let mut keyed: Vec<(i64, usize, RouteSpec<T>)> = routes
            .into_iter()
            .map(|spec| (spec.effective_priority(), spec.rule_len, spec))
            .collect();
        keyed.sort_by(|(pa, la, a), (pb, lb, b)| {
            (Reverse(*pa), Reverse(*la), a.name.as_bytes()).cmp(&(
                Reverse(*pb),
                Reverse(*lb),
                b.name.as_bytes(),
            ))
        });
        let routes: Vec<Route<T>> = keyed
            .into_iter()
            .map(|(priority, _, spec)| Route {
                name: spec.name,
                rule: spec.rule,
                priority,
                value: spec.value,
            })
            .collect();
        let index = Index::build(routes.iter().map(|r| &r.rule));
        Router { routes, index }
    }

    /// The value of the first route, in match order, whose rule matches `req`.
    pub fn lookup(&self, req: &RequestFacts<'_>) -> Option<&T> {
        self.lookup_entry(req).map(|(_, value)| value)
    }

    /// Like [`Router::lookup`], with the matching router's name.
    pub fn lookup_entry(&self, req: &RequestFacts<'_>) -> Option<(&str, &T)> {
        let mut candidates = Candidates::new();
        self.index.candidates(req, &mut candidates);
        candidates
            .iter()
            .filter_map(|&id| self.routes.get(id as usize))
            .find(|route| route.rule.matches(req))
            .map(|route| (route.name.as_str(), &route.value))
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether there are no routes.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Router names in match order.
    pub fn ordered_names(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|r| r.name.as_str())
    }

    /// `(name, effective priority, value)` in match order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, i64, &T)> {
        self.routes
            .iter()
            .map(|r| (r.name.as_str(), r.priority, &r.value))
    }

    /// Reference implementation of [`Router::lookup`]: try every route in
    /// match order, ignoring the index. For tests and diagnostics.
    pub fn lookup_linear(&self, req: &RequestFacts<'_>) -> Option<&T> {
        self.routes
            .iter()
            .find(|route| route.rule.matches(req))
            .map(|route| &route.value)
    }

    /// How many distinct hosts have their own path index (for diagnostics).
    pub fn indexed_host_count(&self) -> usize {
        self.index.host_count()
    }
}
