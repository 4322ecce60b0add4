// One global change sequence, bumped once per committed write batch; subscriptions follow it.
CREATE CONSTRAINT change_feed_id IF NOT EXISTS FOR (f:ChangeFeed) REQUIRE f.id IS UNIQUE;
