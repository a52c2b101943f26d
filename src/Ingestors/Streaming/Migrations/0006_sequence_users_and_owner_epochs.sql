-- Issue 8 B5: writers are fenced. Each assignment of a partition bumps its owner epoch; a writer's state and offsets
-- commit only while the epoch it claimed is still the partition's (checked under a row lock in the same transaction).
alter table consumer_offsets add column owner_epoch bigint not null default 0;

-- Issue 8 D12: the sequence role's users, one row each, written incrementally (only users changed since the last
-- checkpoint) in the same transaction as their partition's checkpoint; idle users are evicted from memory and
-- reloaded from here on their next click.
create table sequence_users (
    consumer_group text   not null,
    user_id        text   not null,
    partition      int    not null,
    snapshot       bytea  not null,
    updated_at     timestamptz not null default now(),
    primary key (consumer_group, user_id)
);
