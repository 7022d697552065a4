//! What a watch yields.

/// A change to the watched set, in the shape indexes consume (the apply /
/// delete / reset pattern of linkerd2's policy controller): `Reset` replaces
/// everything known with a full listing (at start and after any gap), so an
/// index never needs the history it missed.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<K> {
    /// The object was created or changed (or newly matches the selector).
    Apply(K),
    /// The object was deleted (or no longer matches the selector); its last state.
    Delete(K),
    /// The complete current set.
    Reset(Vec<K>),
}

impl<K> Event<K> {
    /// Applies `f` to every object carried, keeping the event's shape.
    pub fn map<T>(self, mut f: impl FnMut(K) -> T) -> Event<T> {
        match self {
            Event::Apply(k) => Event::Apply(f(k)),
            Event::Delete(k) => Event::Delete(f(k)),
            Event::Reset(ks) => Event::Reset(ks.into_iter().map(f).collect()),
        }
    }
}
