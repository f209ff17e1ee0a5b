//! [`ChangeHub`]: per user, the latest revision known to this process, watched by that user's
//! open event streams.
//!
//! A `tokio::sync::watch` per user with at least one stream: a publication overwrites the value,
//! so a stream that has not looked yet sees only the latest revision, and nothing queues up for
//! a stream that does not keep up. (A broadcast channel would buffer every publication per
//! receiver, which is what a slow reader must not cost.)

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

/// Tells the open streams of a user that the user's tasks changed.
#[derive(Debug)]
pub(crate) struct ChangeHub {
    users: Mutex<HashMap<String, watch::Sender<i64>>>,
    closing: watch::Sender<bool>,
}

impl Default for ChangeHub {
    fn default() -> Self {
        Self {
            users: Mutex::default(),
            closing: watch::Sender::new(false),
        }
    }
}

impl ChangeHub {
    /// A hub with no subscriber.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn users(&self) -> MutexGuard<'_, HashMap<String, watch::Sender<i64>>> {
        // The map stays consistent whatever panicked while it was held.
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Watches `user`'s revisions from now on, until the subscription is dropped.
    pub(crate) fn subscribe(self: &Arc<Self>, user: &str) -> Subscription {
        let revision = match self.users().entry(user.to_owned()) {
            Entry::Occupied(entry) => entry.get().subscribe(),
            Entry::Vacant(entry) => entry.insert(watch::Sender::new(0)).subscribe(),
        };
        Subscription {
            hub: self.clone(),
            user: user.to_owned(),
            revision,
            closing: self.closing.subscribe(),
        }
    }

    /// Says that `user`'s tasks are at `revision` (committed). A revision at or below the one
    /// already known wakes nobody; without subscribers it is forgotten.
    pub(crate) fn publish(&self, user: &str, revision: i64) {
        if let Some(sender) = self.users().get(user) {
            sender.send_if_modified(|known| {
                let newer = revision > *known;
                if newer {
                    *known = revision;
                }
                newer
            });
        }
    }

    /// The users with at least one subscription.
    pub(crate) fn subscribed_users(&self) -> Vec<String> {
        self.users().keys().cloned().collect()
    }

    /// Ends every subscription (a graceful shutdown): [`Subscription::closed`] resolves.
    pub(crate) fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Whether [`ChangeHub::close`] was called.
    #[cfg(test)]
    pub(crate) fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }
}

/// One stream's view of a user's revisions; unsubscribes when dropped.
#[derive(Debug)]
pub(crate) struct Subscription {
    hub: Arc<ChangeHub>,
    user: String,
    revision: watch::Receiver<i64>,
    closing: watch::Receiver<bool>,
}

impl Subscription {
    /// The latest revision published since subscribing (0 before any), marked as seen.
    pub(crate) fn latest(&mut self) -> i64 {
        *self.revision.borrow_and_update()
    }

    /// Resolves once a revision newer than the last one seen is published.
    pub(crate) async fn changed(&mut self) {
        if self.revision.changed().await.is_err() {
            // The hub keeps the sender while this subscription lives: not reached.
            std::future::pending::<()>().await;
        }
    }

    /// Whether the hub is closing (shutdown).
    pub(crate) fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }

    /// Resolves once the hub is closing (shutdown). The future borrows nothing, so that it can
    /// be awaited together with [`Subscription::changed`].
    pub(crate) fn closed(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.clone();
        async move {
            // The hub outlives its subscriptions (they hold it): waiting cannot fail.
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut users = self.hub.users();
        if let Some(sender) = users.get(&self.user)
            && sender.receiver_count() <= 1
        {
            users.remove(&self.user);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn subscribers_see_the_latest_revision_of_their_user_only() {
        let hub = Arc::new(ChangeHub::new());
        let mut alice = hub.subscribe("alice");
        let mut alice_too = hub.subscribe("alice");
        let mut bob = hub.subscribe("bob");
        assert_eq!(alice.latest(), 0);
        hub.publish("alice", 3);
        hub.publish("alice", 5);
        hub.publish("alice", 4);
        alice.changed().await;
        assert_eq!(alice.latest(), 5, "only the latest, never older");
        alice_too.changed().await;
        assert_eq!(alice_too.latest(), 5);
        let nothing = tokio::time::timeout(Duration::from_millis(50), bob.changed()).await;
        assert!(
            nothing.is_err(),
            "bob's subscription is not woken by alice's changes"
        );
        let mut users = hub.subscribed_users();
        users.sort();
        assert_eq!(users, ["alice", "bob"]);
    }

    #[tokio::test]
    async fn the_last_subscription_of_a_user_removes_it() {
        let hub = Arc::new(ChangeHub::new());
        let one = hub.subscribe("alice");
        let two = hub.subscribe("alice");
        drop(one);
        assert_eq!(hub.subscribed_users(), ["alice"]);
        drop(two);
        assert!(hub.subscribed_users().is_empty());
        hub.publish("alice", 1);
        assert!(
            hub.subscribed_users().is_empty(),
            "publishing subscribes nobody"
        );
    }

    #[tokio::test]
    async fn closing_ends_every_subscription() {
        let hub = Arc::new(ChangeHub::new());
        let sub = hub.subscribe("alice");
        hub.close();
        tokio::time::timeout(Duration::from_secs(5), sub.closed())
            .await
            .expect("closed");
        assert!(hub.is_closing());
    }
}
