-- The api role (issue 11): each user's latest SequenceUpdate (window, gaps) and AugmentedSequence (fills), kept from
-- the feature topics so the score and sequence endpoints read them online. Avro single-object bytes; newest version wins.
create table api_user_features (
    user_id            text   primary key,
    sequence_version   bigint not null default -1,
    sequence_update    bytea,
    augmented_version  bigint not null default -1,
    augmented          bytea,
    updated_at         timestamptz not null default now()
);
