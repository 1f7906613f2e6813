//! Columns of named states (`runs.status`, `runs.trigger`, `outbox.status`) read into
//! their enums: decoded as text and matched against the enum's names, so a value sendwatch
//! does not know is a clear [`UnknownValue`] rather than a string every caller compares.

/// A value in a column of named states (`runs.status`, `runs.trigger`) that sendwatch does
/// not know: a hand edit, or a newer version's. Read as [`StoreError::Corrupt`].
#[derive(Debug, thiserror::Error)]
#[error("{column} holds `{value}`, which sendwatch does not know")]
pub struct UnknownValue {
    pub column: &'static str,
    pub value: String,
}

/// The one of `all` whose text is `value` (the read of a column of named states).
pub(super) fn named<T: Copy>(
    all: &[T],
    text: fn(T) -> &'static str,
    column: &'static str,
    value: String,
) -> Result<T, UnknownValue> {
    all.iter()
        .copied()
        .find(|v| text(*v) == value)
        .ok_or(UnknownValue { column, value })
}

/// A column of named states read as its enum: decoded as text, then [`TryFrom<String>`], so
/// an unknown value is an [`UnknownValue`] (which the store reads as [`StoreError::Corrupt`]).
macro_rules! named_column {
    ($ty:ty) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $ty
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $ty
        where
            String: sqlx::Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <String as sqlx::Decode<'r, DB>>::decode(value)?;
                Ok(<$ty>::try_from(text)?)
            }
        }
    };
}

pub(super) use named_column;
