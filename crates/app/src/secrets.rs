//! Key-ring maintenance use cases (SPEC §8): how many sealed values each key
//! id seals (`patchbay secrets status`), re-sealing everything under the
//! active key (`patchbay secrets rotate`: batched, each batch its own
//! transaction, compare-and-swap so a concurrent `PUT` is never overwritten,
//! idempotent and resumable), and the start-up check that every key id in
//! use is in the ring.

use std::sync::Arc;

use crate::error::AppError;
use crate::ports::{SealedValueStore, SecretCipher};

/// One key id's line of `secrets status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStatus {
    /// The key id.
    pub key_id: String,
    /// Sealed values (passwords and `extra` documents) under it.
    pub values: u64,
    /// Whether the configured ring holds the key.
    pub in_ring: bool,
    /// Whether it is the active (sealing) key.
    pub active: bool,
}

/// What a whole rotation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Batches run (the last one found nothing to do).
    pub batches: u64,
    /// Values re-sealed under the active key.
    pub resealed: u64,
    /// Values a concurrent write changed first (already under the active
    /// key, or cleared): left as that write put them.
    pub skipped: u64,
}

/// Key-ring maintenance.
#[derive(Clone)]
pub struct SecretsService {
    store: Arc<dyn SealedValueStore>,
    cipher: Arc<dyn SecretCipher>,
}

impl std::fmt::Debug for SecretsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsService").finish_non_exhaustive()
    }
}

/// The most batches one rotation runs before it stops and says so (a
/// safety net: each batch shrinks the set of stale values).
const MAX_BATCHES: u64 = 1_000_000;

impl SecretsService {
    #[must_use]
    pub fn new(store: Arc<dyn SealedValueStore>, cipher: Arc<dyn SecretCipher>) -> Self {
        Self { store, cipher }
    }

    /// Every key id that seals values, plus every ring key, by key id.
    ///
    /// # Errors
    /// Store failures.
    pub async fn status(&self) -> Result<Vec<KeyStatus>, AppError> {
        let counts = self.store.sealed_counts().await?;
        let active = self.cipher.active_key_id();
        let mut lines: Vec<KeyStatus> = counts
            .into_iter()
            .map(|c| KeyStatus {
                in_ring: self.cipher.has_key(&c.key_id),
                active: c.key_id == active,
                key_id: c.key_id,
                values: c.values,
            })
            .collect();
        for key_id in self.cipher.key_ids() {
            if !lines.iter().any(|l| l.key_id == key_id) {
                lines.push(KeyStatus {
                    active: key_id == active,
                    key_id,
                    values: 0,
                    in_ring: true,
                });
            }
        }
        lines.sort_by(|a, b| a.key_id.cmp(&b.key_id));
        Ok(lines)
    }

    /// Refuses a ring that lacks a key id the database uses (a server
    /// started with it could not open those values).
    ///
    /// # Errors
    /// A message naming every missing key id and how many values use it;
    /// store failures.
    pub async fn check_coverage(&self) -> Result<(), String> {
        let missing: Vec<String> = self
            .status()
            .await
            .map_err(|e| {
                format!(
                    "cannot count sealed values: {}",
                    e.detail.as_deref().unwrap_or(&e.message)
                )
            })?
            .into_iter()
            .filter(|s| !s.in_ring)
            .map(|s| format!("'{}' ({} value(s))", s.key_id, s.values))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the database holds secrets sealed under key id(s) missing from PATCHBAY_SECRET_KEYS: {}; add those keys back to the ring (after the active key), then run `patchbay secrets rotate`",
                missing.join(", ")
            ))
        }
    }

    /// Re-seals every value not under the active key, `batch` values per
    /// transaction, until none is left.
    ///
    /// # Errors
    /// A value that cannot be opened (its key is missing from the ring, or
    /// it was tampered with) stops the rotation with the store's message;
    /// what earlier batches did stays done, and a rerun resumes.
    pub async fn rotate(&self, batch: u32) -> Result<RotationReport, AppError> {
        let mut report = RotationReport::default();
        while report.batches < MAX_BATCHES {
            let done = self.store.rotate_sealed_batch(batch).await?;
            report.batches += 1;
            report.resealed += done.resealed;
            report.skipped += done.skipped;
            if done.examined == 0 {
                return Ok(report);
            }
        }
        Err(AppError::internal(format!(
            "rotation stopped after {MAX_BATCHES} batches; run it again"
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::ports::{MockSealedValueStore, MockSecretCipher, RotationBatch, SealedCount};

    fn cipher(active: &'static str, ring: &'static [&'static str]) -> MockSecretCipher {
        let mut c = MockSecretCipher::new();
        c.expect_active_key_id()
            .returning(move || active.to_owned());
        c.expect_has_key().returning(move |k| ring.contains(&k));
        c.expect_key_ids()
            .returning(move || ring.iter().map(|k| (*k).to_owned()).collect());
        c
    }

    fn counts(pairs: &'static [(&'static str, u64)]) -> MockSealedValueStore {
        let mut s = MockSealedValueStore::new();
        s.expect_sealed_counts().returning(move || {
            Ok(pairs
                .iter()
                .map(|(k, n)| SealedCount {
                    key_id: (*k).to_owned(),
                    values: *n,
                })
                .collect())
        });
        s
    }

    #[tokio::test]
    async fn status_lists_used_and_ring_keys() {
        let svc = SecretsService::new(
            Arc::new(counts(&[("old", 3), ("gone", 2)])),
            Arc::new(cipher("new", &["new", "old"])),
        );
        let lines = svc.status().await.unwrap();
        let view: Vec<(&str, u64, bool, bool)> = lines
            .iter()
            .map(|l| (l.key_id.as_str(), l.values, l.in_ring, l.active))
            .collect();
        assert_eq!(
            view,
            [
                ("gone", 2, false, false),
                ("new", 0, true, true),
                ("old", 3, true, false)
            ]
        );
        let err = svc.check_coverage().await.unwrap_err();
        assert!(err.contains("'gone' (2 value(s))"), "{err}");
        assert!(!err.contains("'old'"), "{err}");
    }

    #[tokio::test]
    async fn a_covering_ring_passes() {
        let svc = SecretsService::new(
            Arc::new(counts(&[("old", 3)])),
            Arc::new(cipher("new", &["new", "old"])),
        );
        svc.check_coverage().await.unwrap();
    }

    #[tokio::test]
    async fn rotate_runs_batches_until_nothing_is_left() {
        let mut store = MockSealedValueStore::new();
        let mut seq = mockall::Sequence::new();
        for (examined, resealed, skipped) in [(100, 99, 1), (40, 40, 0), (0, 0, 0)] {
            store
                .expect_rotate_sealed_batch()
                .withf(|limit| *limit == 100)
                .times(1)
                .in_sequence(&mut seq)
                .returning(move |_| {
                    Ok(RotationBatch {
                        examined,
                        resealed,
                        skipped,
                    })
                });
        }
        let svc = SecretsService::new(Arc::new(store), Arc::new(cipher("new", &["new"])));
        assert_eq!(
            svc.rotate(100).await.unwrap(),
            RotationReport {
                batches: 3,
                resealed: 139,
                skipped: 1
            }
        );
    }
}
