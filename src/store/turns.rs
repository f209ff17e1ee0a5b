//! A user's turn to write, within this process: a user's write transactions wait here, one at
//! a time, before they take a pooled connection. Without it a burst of one user's writes (an
//! assistant, a script, a tab replaying its queue) took as many of the pool's connections as it
//! had writes, each waiting in PostgreSQL for the user's advisory lock while other users waited
//! for a connection. Across processes the advisory lock still orders a user's writes
//! ([`super::dialect::Dialect::begin_write`]); this only keeps one replica's pool fair.
//!
//! Written here rather than taken from a crate: a map of tokio mutexes, an entry removed when
//! its last holder or waiter is gone, is a few lines; keyed-lock crates add a dependency for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as TurnLock, OwnedMutexGuard};

/// The users writing, or waiting to, in this process.
#[derive(Default)]
pub(crate) struct Turns {
    users: Mutex<Users>,
}

#[derive(Default)]
struct Users {
    locks: HashMap<String, Arc<TurnLock<()>>>,
    /// How many entries make the next [`Turns::take`] drop those nobody holds (a turn dropped
    /// while it waited may leave one behind).
    sweep_at: usize,
}

/// The fewest entries a sweep waits for.
const SWEEP_AT_LEAST: usize = 256;

/// A user's turn: the user's other writes in this process wait until it is dropped.
pub(crate) struct Turn {
    guard: Option<OwnedMutexGuard<()>>,
    turns: Arc<Turns>,
    user: String,
}

impl Turns {
    /// Waits for `user`'s turn.
    pub(crate) async fn take(self: &Arc<Self>, user: &str) -> Turn {
        let lock = {
            let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
            if users.locks.len() >= users.sweep_at.max(SWEEP_AT_LEAST) {
                users.locks.retain(|_, lock| Arc::strong_count(lock) > 1);
                users.sweep_at = 2 * users.locks.len();
            }
            // The key is copied only for a user not writing yet (not on every write).
            match users.locks.get(user) {
                Some(lock) => Arc::clone(lock),
                None => Arc::clone(users.locks.entry(user.to_owned()).or_default()),
            }
        };
        let mut turn = Turn {
            guard: None,
            turns: Arc::clone(self),
            user: user.to_owned(),
        };
        turn.guard = Some(lock.lock_owned().await);
        turn
    }

    /// How many users have an entry (a test's view: none once every turn is over).
    #[cfg(test)]
    fn len(&self) -> usize {
        let users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        users.locks.len()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut users = self
            .turns
            .users
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Only the map holds it: nobody has the turn or waits for it. (Waiters take their
        // reference under this same lock, so none can appear meanwhile.)
        if users
            .locks
            .get(&self.user)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            users.locks.remove(&self.user);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn one_turn_per_user_at_a_time_and_no_entry_left() {
        let turns = Arc::new(Turns::default());
        let alice = turns.take("alice").await;
        // Another user's turn does not wait for alice's.
        let bob = tokio::time::timeout(Duration::from_secs(5), turns.take("bob"))
            .await
            .expect("bob waited for alice");
        // Alice's second write waits for her first.
        let waiting = tokio::spawn({
            let turns = Arc::clone(&turns);
            async move { drop(turns.take("alice").await) }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiting.is_finished(),
            "a second turn of alice did not wait"
        );
        drop(alice);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the second turn never came")
            .expect("the task failed");
        drop(bob);
        assert_eq!(turns.len(), 0);
    }

    #[tokio::test]
    async fn a_turn_dropped_while_waiting_leaves_nothing_held() {
        let turns = Arc::new(Turns::default());
        let alice = turns.take("alice").await;
        // Given up while waiting (the request ended).
        let gave_up = tokio::time::timeout(Duration::from_millis(20), turns.take("alice")).await;
        assert!(gave_up.is_err());
        drop(alice);
        let again = tokio::time::timeout(Duration::from_secs(5), turns.take("alice"))
            .await
            .expect("alice's turn stayed taken");
        drop(again);
        assert_eq!(turns.len(), 0);
    }

    #[tokio::test]
    async fn entries_left_behind_are_swept() {
        let turns = Arc::new(Turns::default());
        let held: Vec<Turn> = {
            let mut held = Vec::new();
            for user in 0..4 {
                held.push(turns.take(&format!("held{user}")).await);
            }
            held
        };
        // Entries nobody holds, as a turn dropped while waiting could leave.
        {
            let mut users = turns.users.lock().unwrap_or_else(PoisonError::into_inner);
            for user in 0..SWEEP_AT_LEAST {
                users.locks.insert(format!("left{user}"), Arc::default());
            }
        }
        drop(turns.take("bob").await);
        assert_eq!(turns.len(), held.len());
        drop(held);
        assert_eq!(turns.len(), 0);
    }
}
