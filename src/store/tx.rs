//! One transaction on either backend ([`Tx`]), for the writes that check and then write
//! (queueing mail, claiming it, a bulk load): on SQLite it takes the write lock at once
//! (`BEGIN IMMEDIATE`), so that no other writer reads between the check and the write.
//! [`on_tx!`] runs the same body against whichever backend holds it, so the SQL is written
//! once and per-backend code stays where the SQL differs.

use sqlx::{Postgres, Sqlite, Transaction};

use super::{Pool, Store, StoreError};

/// A transaction on the store's backend.
pub(super) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

/// Run the same body against whichever transaction `tx` holds.
macro_rules! on_tx {
    ($tx:expr, $t:ident => $body:expr) => {
        match $tx {
            $crate::store::tx::Tx::Sqlite($t) => $body,
            $crate::store::tx::Tx::Pg($t) => $body,
        }
    };
}
pub(super) use on_tx;

impl Tx {
    /// Begin a transaction; on SQLite it takes the write lock at once.
    pub(super) async fn begin(store: &Store) -> Result<Tx, StoreError> {
        Ok(match &store.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => Tx::Pg(p.begin().await?),
        })
    }

    pub(super) async fn commit(self) -> Result<(), StoreError> {
        on_tx!(self, t => t.commit().await?);
        Ok(())
    }
}
