-- Trainer retention of augmented sequences (issue 10 §8): the prune (Trainer:AugmentedRetentionMs) looks for rows older
-- than a cutoff; without an index on ts_ms every prune would read the whole table.
create index ctr_augmented_sequences_ts on ctr_augmented_sequences (ts_ms);
