// The change log that subscriptions read: one (:ChangeLog) node per change-feed sequence number,
// written in the same transaction as the batch it describes, read in sequence order.
CREATE CONSTRAINT change_log_seq IF NOT EXISTS FOR (l:ChangeLog) REQUIRE l.seq IS UNIQUE;
