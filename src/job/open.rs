//! Opening the store for one area: connect, migrate, scope every query to the area, and give
//! a single-area database's rows from before areas (migration 0018) to its area.
//!
//! Why here and not in `store`: the store knows areas only as ids; whether this
//! configuration is the database's one area (so its old rows are this area's) is config's.

use crate::config::Settings;
use crate::store::{Store, StoreError};

/// Open `settings`' store, migrated and scoped to its area. A single-area configuration
/// adopts the rows written before areas; one of several areas refuses to start while such
/// rows are left (`sendwatch --area ID db migrate` gives them to one area).
pub async fn open_store(settings: &Settings) -> Result<Store, StoreError> {
    let base = Store::connect(&settings.store).await?;
    base.migrate().await?;
    scope_store(&base, settings).await
}

/// `base`'s pool (connected and migrated) scoped to `settings`' area, as [`open_store`]: the
/// daemon opens one pool for every area it serves.
pub async fn scope_store(base: &Store, settings: &Settings) -> Result<Store, StoreError> {
    let store = base.for_area(settings.area_id().as_str());
    if store.has_unscoped_rows().await? {
        if settings.areas.member {
            return Err(StoreError::NotFound(
                "the database holds rows from before areas, which belong to no area yet: \
                 give them to theirs with `sendwatch --area ID db migrate`"
                    .into(),
            ));
        }
        adopt(&store).await?;
    }
    Ok(store)
}

/// Give the rows from before areas to `store`'s area, and say so.
pub async fn adopt(store: &Store) -> Result<u64, StoreError> {
    let moved = store.adopt_unscoped().await?;
    if moved > 0 {
        tracing::info!(
            area = store.area(),
            rows = moved,
            "Rows written before areas are now this area's."
        );
    }
    Ok(moved)
}
