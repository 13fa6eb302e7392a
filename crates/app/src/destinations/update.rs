//! Use case: change the name or configuration of a destination, keeping its secret unless a new
//! one is given. The stored destination is read once, also when the replacement configuration
//! can only be read against the stored type.

use std::fmt;

use rosetta_domain::{
    Destination, DestinationConfig, DestinationId, DestinationType, DestinationUpdate, Name,
};

use crate::{AppError, Rosetta};

/// Reads a replacement configuration against the stored destination's type: the configuration
/// (`None` keeps the stored one), or the caller's own error (the values it refuses).
pub type ReadAgainstStoredType<E> =
    Box<dyn FnOnce(DestinationType) -> Result<Option<DestinationConfig>, E> + Send>;

/// A partial update of a destination as a client asks for it.
///
/// Unlike the domain's [`DestinationUpdate`], the configuration may depend on the stored
/// destination, which only [`Rosetta::update_destination`] reads.
pub struct DestinationPatch<E> {
    /// A new name.
    pub name: Option<Name>,
    /// What becomes of the configuration.
    pub config: ConfigPatch<E>,
}

/// What a [`DestinationPatch`] does to the configuration.
#[expect(
    clippy::large_enum_variant,
    reason = "one patch per request, moved once or twice: boxing the configuration saves nothing"
)]
pub enum ConfigPatch<E> {
    /// It stays as it is.
    Keep,
    /// It is replaced; a replacement of the stored type that leaves its secret out keeps the
    /// stored secret.
    Replace(DestinationConfig),
    /// It is decided by the stored type (a configuration sent without its type, or a type sent
    /// alone): the reader returns the replacement, kept secret included as for
    /// [`ConfigPatch::Replace`], or `None` to keep the configuration.
    AgainstStoredType(ReadAgainstStoredType<E>),
}

// The reader is a closure without `Debug`; the patch is described by its shape.
impl<E> fmt::Debug for ConfigPatch<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keep => f.write_str("Keep"),
            Self::Replace(config) => f.debug_tuple("Replace").field(config).finish(),
            Self::AgainstStoredType(_) => f.write_str("AgainstStoredType(..)"),
        }
    }
}

impl<E> fmt::Debug for DestinationPatch<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DestinationPatch")
            .field("name", &self.name)
            .field("config", &self.config)
            .finish()
    }
}

impl<E> Default for DestinationPatch<E> {
    fn default() -> Self {
        Self {
            name: None,
            config: ConfigPatch::Keep,
        }
    }
}

impl Rosetta {
    /// Applies a partial update. A replacement configuration that leaves its secret out keeps
    /// the stored one (when the type stays the same), so clients never have to send it back. An
    /// update that changes nothing writes nothing and returns the destination as it is.
    ///
    /// The stored destination is read once at most; a [`ConfigPatch::AgainstStoredType`]
    /// reader is called with its type, and its error is returned as it is.
    ///
    /// # Errors
    ///
    /// The reader's error, or (converted into `E`) [`AppError::NotFound`],
    /// [`AppError::Duplicate`] when the new name is taken, [`AppError::Unavailable`],
    /// [`AppError::Unknown`].
    // The configuration may hold a secret: only the id is recorded.
    #[tracing::instrument(skip_all, fields(destination_id = %id), err(level = "info"))]
    pub async fn update_destination<E>(
        &self,
        id: DestinationId,
        patch: DestinationPatch<E>,
    ) -> Result<Destination, E>
    where
        E: From<AppError> + fmt::Display,
    {
        let DestinationPatch { name, config } = patch;
        let config = match config {
            ConfigPatch::Keep if name.is_none() => return Ok(self.find_destination(id).await?),
            ConfigPatch::Keep => None,
            ConfigPatch::Replace(config) => {
                let stored = self.find_destination(id).await?;
                Some(config.keeping_secret_of(&stored.config))
            }
            ConfigPatch::AgainstStoredType(read) => {
                let stored = self.find_destination(id).await?;
                match read(stored.config.destination_type())? {
                    Some(config) => Some(config.keeping_secret_of(&stored.config)),
                    None if name.is_none() => return Ok(stored),
                    None => None,
                }
            }
        };
        let updated = self
            .destinations
            .update(id, DestinationUpdate { name, config })
            .await
            .map_err(|e| E::from(e.into()))?;
        self.catalogue_changed();
        Ok(updated)
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use rosetta_domain::ports::DestinationRepositoryError;
    use rosetta_domain::{
        Destination, DestinationConfig, DestinationId, DestinationType, DestinationUpdate,
        EntityKind,
    };

    use super::{ConfigPatch, DestinationPatch};
    use crate::fixtures::{assert_duplicate_name, destination, name, postgres_config, Mocks};
    use crate::AppError;

    /// What a caller's reader refuses, beside the use case's own errors.
    #[derive(Debug)]
    enum CallerError {
        App(AppError),
        Refused,
    }

    impl From<AppError> for CallerError {
        fn from(error: AppError) -> Self {
            Self::App(error)
        }
    }

    impl fmt::Display for CallerError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Self::App(error) => error.fmt(f),
                Self::Refused => f.write_str("refused"),
            }
        }
    }

    fn patch(config: ConfigPatch<AppError>) -> DestinationPatch<AppError> {
        DestinationPatch { name: None, config }
    }

    /// Destination 2 as stored, with password `s3cr3t`, read `reads` times, and a store that
    /// expects `expected`.
    fn mocks_expecting(reads: usize, expected: DestinationUpdate) -> Mocks {
        let mut mocks = Mocks::default();
        mocks
            .destinations
            .expect_get()
            .times(reads)
            .returning(|_| Ok(Some(destination(2))));
        mocks
            .destinations
            .expect_update()
            .withf(move |id, given| *id == DestinationId::new(2) && *given == expected)
            .times(1)
            .returning(|_, given| {
                let mut stored = destination(2);
                if let Some(config) = given.config {
                    stored.config = config;
                }
                Ok(stored)
            });
        mocks
    }

    /// Destination 2, read exactly once and never written.
    fn read_once_never_written() -> Mocks {
        let mut mocks = Mocks::default();
        mocks
            .destinations
            .expect_get()
            .times(1)
            .returning(|_| Ok(Some(destination(2))));
        mocks.destinations.expect_update().never();
        mocks
    }

    async fn update_2<E>(mocks: Mocks, patch: DestinationPatch<E>) -> Result<Destination, E>
    where
        E: From<AppError> + fmt::Display,
    {
        mocks
            .into_rosetta()
            .update_destination(DestinationId::new(2), patch)
            .await
    }

    /// Replacing destination 2's configuration through `config` stores `stored`, read once.
    async fn config_stored(config: ConfigPatch<AppError>, stored: DestinationConfig) {
        let mocks = mocks_expecting(
            1,
            DestinationUpdate {
                name: None,
                config: Some(stored.clone()),
            },
        );

        let updated = update_2(mocks, patch(config)).await;

        assert_eq!(updated.ok().map(|d| d.config), Some(stored));
    }

    #[tokio::test]
    async fn a_destination_edit_without_its_secret_keeps_the_stored_secret() {
        config_stored(
            ConfigPatch::Replace(postgres_config("new-dw.internal", None)),
            postgres_config("new-dw.internal", Some("s3cr3t")),
        )
        .await;
    }

    #[tokio::test]
    async fn a_destination_edit_with_a_new_secret_replaces_it() {
        config_stored(
            ConfigPatch::Replace(postgres_config("dw.internal", Some("rotated"))),
            postgres_config("dw.internal", Some("rotated")),
        )
        .await;
    }

    #[tokio::test]
    async fn a_config_read_against_the_stored_type_reads_the_destination_once_and_keeps_its_secret()
    {
        config_stored(
            ConfigPatch::AgainstStoredType(Box::new(|stored| {
                assert_eq!(stored, DestinationType::Postgres);
                Ok(Some(postgres_config("new-dw.internal", None)))
            })),
            postgres_config("new-dw.internal", Some("s3cr3t")),
        )
        .await;
    }

    #[tokio::test]
    async fn a_config_refused_against_the_stored_type_writes_nothing_and_answers_the_readers_error()
    {
        let update = DestinationPatch {
            name: Some(name("renamed")),
            config: ConfigPatch::AgainstStoredType(Box::new(|_| Err(CallerError::Refused))),
        };

        let error = update_2(read_once_never_written(), update).await;

        assert!(matches!(error, Err(CallerError::Refused)), "{error:?}");
    }

    #[tokio::test]
    async fn the_stored_type_alone_returns_the_destination_read_once_without_writing() {
        let update = patch(ConfigPatch::AgainstStoredType(Box::new(|_| Ok(None))));

        let updated = update_2(read_once_never_written(), update).await;

        assert_eq!(updated.ok(), Some(destination(2)));
    }

    #[tokio::test]
    async fn renaming_a_destination_writes_only_the_name() {
        let mocks = mocks_expecting(
            0,
            DestinationUpdate {
                name: Some(name("renamed")),
                config: None,
            },
        );
        let update = DestinationPatch::<AppError> {
            name: Some(name("renamed")),
            config: ConfigPatch::Keep,
        };

        assert!(update_2(mocks, update).await.is_ok());
    }

    #[tokio::test]
    async fn a_configuration_edit_of_a_missing_destination_is_not_found_and_writes_nothing() {
        for config in [
            ConfigPatch::Replace(postgres_config("dw.internal", None)),
            ConfigPatch::AgainstStoredType(Box::new(|_| -> Result<_, CallerError> {
                panic!("the reader of a missing destination was called")
            })),
        ] {
            let mut mocks = Mocks::default();
            mocks.destinations.expect_get().returning(|_| Ok(None));
            mocks.destinations.expect_update().never();
            let update = DestinationPatch { name: None, config };

            let error = mocks
                .into_rosetta()
                .update_destination(DestinationId::new(7), update)
                .await;

            assert!(matches!(
                error,
                Err(CallerError::App(AppError::NotFound {
                    entity: EntityKind::Destination,
                    id: 7
                }))
            ));
        }
    }

    #[tokio::test]
    async fn an_empty_destination_update_returns_the_destination_without_writing() {
        let updated = update_2(
            read_once_never_written(),
            DestinationPatch::<AppError>::default(),
        )
        .await;

        assert_eq!(updated.ok(), Some(destination(2)));
    }

    #[tokio::test]
    async fn renaming_a_destination_to_a_taken_name_is_a_duplicate() {
        let mut mocks = Mocks::default();
        mocks
            .destinations
            .expect_update()
            .returning(|_, _| Err(DestinationRepositoryError::Duplicate(name("taken"))));
        let update = DestinationPatch::<AppError> {
            name: Some(name("taken")),
            config: ConfigPatch::Keep,
        };

        let error = update_2(mocks, update).await;

        assert_duplicate_name(&error, EntityKind::Destination, "taken");
    }
}
