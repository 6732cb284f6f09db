#include "services/catalog/watch/change_feed.h"

#include <algorithm>
#include <deque>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/watch/deployments_projection.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::modelcatalog::v1::WatchEventType;
using ::testing::ElementsAre;
using WatchEvent = DeploymentEvent;

// A stream whose "client" reads only when the test says so: writes complete
// on Read(), so a test can hold a stream back like a slow consumer.
class RecordingStream : public WatchSink {
 public:
  // Watches every model with deployments, or the listed ones; in feed shard `shard`.
  RecordingStream(std::initializer_list<std::string> ids = {}, size_t shard = 0)
      : stream_(this, shard) {
    stream_.SetProjection(std::make_unique<DeploymentsProjection>(std::vector<std::string>(ids)));
  }

  // What the feed subscribes.
  WatchStream* watch() { return &stream_; }
  size_t pending_count() const { return stream_.pending_count(); }

  // Completes the write in flight, recording its event; false if none.
  bool Read() {
    EncodedEvent bytes;
    {
      absl::MutexLock lock(&mu_);
      if (in_flight_ == nullptr) return false;
      bytes = std::move(in_flight_);
    }
    WatchEvent event;
    EXPECT_TRUE(event.ParseFromString(*bytes));
    events.push_back(event);
    written.push_back(bytes);
    stream_.OnEventWritten(true);
    return true;
  }
  void ReadAll() {
    while (Read()) {
    }
  }
  void Cancel() { stream_.OnStreamCancelled(); }
  bool finished() {
    absl::MutexLock lock(&mu_);
    return finish_status_.has_value();
  }
  absl::Status finish_status() {
    absl::MutexLock lock(&mu_);
    return *finish_status_;
  }

  std::vector<WatchEvent> events;
  std::vector<EncodedEvent> written;  // the bytes of each event, as handed to the transport
  std::function<void()> on_write;     // called as each write starts

 private:
  void StartEventWrite(EncodedEvent event) override {
    if (on_write) on_write();
    absl::MutexLock lock(&mu_);
    in_flight_ = std::move(event);
  }
  void FinishStream(const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    finish_status_ = status;
  }

  WatchStream stream_;
  absl::Mutex mu_;
  EncodedEvent in_flight_;
  absl::optional<absl::Status> finish_status_;
};

modelcatalog::v1::Model Custom(const std::string& id, const std::string& status) {
  modelcatalog::v1::Model model = MakeModel(id);
  model.set_model_type_raw("custom");
  auto* deployment = model.add_deployments();
  deployment->set_status_raw(status);
  return model;
}

Deployments DeploymentsWith(const std::string& status) {
  Deployments deployments;
  deployments.Add()->set_status_raw(status);
  return deployments;
}

ModelChange Change(const std::string& id, const std::string& from, const std::string& to) {
  ModelChange change;
  change.model_id = id;
  change.kind = from.empty()
                    ? ModelChange::Kind::kAdded
                    : (to.empty() ? ModelChange::Kind::kRemoved : ModelChange::Kind::kChanged);
  if (!from.empty()) change.before_entry = MakeEntry(Custom(id, from));
  if (!to.empty()) change.after_entry = MakeEntry(Custom(id, to));
  change.observed_at = absl::FromUnixSeconds(1764000000);
  return change;
}

std::vector<std::string> Describe(const std::vector<WatchEvent>& events) {
  std::vector<std::string> out;
  for (const WatchEvent& e : events) {
    std::string text = modelcatalog::v1::WatchEventType_Name(e.type()).substr(17);  // drop prefix
    if (!e.model_id().empty()) text += " " + e.model_id();
    if (!e.previous_status_raw().empty()) text += " " + e.previous_status_raw() + "->";
    if (!e.status_raw().empty())
      text += (e.previous_status_raw().empty() ? " " : "") + e.status_raw();
    text += " @" + std::to_string(e.revision());
    if (e.resync()) text += " resync";
    out.push_back(text);
  }
  return out;
}

class ChangeFeedTest : public ::testing::Test {
 protected:
  ChangeFeedTest() {
    ChangeFeedOptions options;
    options.history_size = 4;
    options.progress_interval = absl::Seconds(10);
    options.clock = [this] { return now_; };
    feed_ = std::make_unique<ChangeFeed>(options);
    feed_->Publish(
        CatalogSnapshot::Build({Custom("a", "active"), Custom("b", "inactive"), MakeModel("base")},
                               1, now_),
        {});
  }

  std::shared_ptr<const CatalogSnapshot> Snapshot() {
    return CatalogSnapshot::Build({Custom("a", "active"), Custom("b", "inactive")}, 1, now_);
  }

  absl::Time now_ = absl::FromUnixSeconds(1764000000);
  std::unique_ptr<ChangeFeed> feed_;
};

TEST_F(ChangeFeedTest, StartsWithInitialStateThenMarkerThenChanges) {
  RecordingStream stream;
  ASSERT_TRUE(feed_->Subscribe(stream.watch(), "").ok());
  stream.ReadAll();
  feed_->Publish(Snapshot(), {Change("b", "inactive", "deploying")});
  stream.ReadAll();
  EXPECT_THAT(Describe(stream.events),
              ElementsAre("INITIAL a active @0", "INITIAL b inactive @0",
                          "INITIAL_STATE_COMPLETE @0", "CHANGED b inactive->deploying @1"));
  EXPECT_TRUE(stream.events[0].resume_token().empty());   // INITIAL: no token
  EXPECT_FALSE(stream.events[2].resume_token().empty());  // marker: token
  EXPECT_FALSE(stream.events[3].resume_token().empty());
  feed_->Unsubscribe(stream.watch());
}

TEST_F(ChangeFeedTest, ExplicitIdsIncludeModelsWithoutDeploymentsAndFutureOnes) {
  RecordingStream stream({"base", "b", "later"});
  ASSERT_TRUE(feed_->Subscribe(stream.watch(), "").ok());
  stream.ReadAll();
  feed_->Publish(Snapshot(), {Change("a", "active", "error"), Change("later", "", "deploying")});
  stream.ReadAll();
  EXPECT_THAT(Describe(stream.events),
              ElementsAre("INITIAL b inactive @0", "INITIAL base @0", "INITIAL_STATE_COMPLETE @0",
                          "ADDED later deploying @2"));
  feed_->Unsubscribe(stream.watch());
}

TEST_F(ChangeFeedTest, ASlowReaderGetsTheLatestStatePerModelInRevisionOrder) {
  RecordingStream slow;
  RecordingStream fast;
  ASSERT_TRUE(feed_->Subscribe(slow.watch(), "").ok());
  ASSERT_TRUE(feed_->Subscribe(fast.watch(), "").ok());
  fast.ReadAll();
  // `slow` reads nothing while five changes land.
  feed_->Publish(Snapshot(),
                 {Change("a", "active", "deactivating"), Change("b", "inactive", "deploying")});
  fast.ReadAll();
  feed_->Publish(Snapshot(), {Change("a", "deactivating", "inactive")});
  fast.ReadAll();
  feed_->Publish(Snapshot(), {Change("c", "", "deploying")});
  fast.ReadAll();
  feed_->Publish(Snapshot(), {Change("c", "deploying", "")});
  fast.ReadAll();
  EXPECT_EQ(fast.events.size(), 3u + 5u);
  EXPECT_LE(slow.pending_count(), 3u);  // one entry per model, never one per change
  slow.ReadAll();
  EXPECT_THAT(
      Describe(slow.events),
      ElementsAre("INITIAL a active @0", "INITIAL b inactive @0", "INITIAL_STATE_COMPLETE @0",
                  // b's change (2) now precedes a's merged one (3); c came and went.
                  "CHANGED b inactive->deploying @2", "CHANGED a active->inactive @3"));
  feed_->Unsubscribe(slow.watch());
  feed_->Unsubscribe(fast.watch());
}

TEST_F(ChangeFeedTest, StreamsThatSendTheSameEventShareItsBytes) {
  RecordingStream one;
  RecordingStream two({"b"});
  ASSERT_TRUE(feed_->Subscribe(one.watch(), "").ok());
  ASSERT_TRUE(feed_->Subscribe(two.watch(), "").ok());
  one.ReadAll();
  two.ReadAll();
  feed_->Publish(Snapshot(), {Change("b", "inactive", "deploying")});
  one.ReadAll();
  two.ReadAll();
  ASSERT_EQ(Describe(one.events).back(), "CHANGED b inactive->deploying @1");
  ASSERT_EQ(Describe(two.events).back(), "CHANGED b inactive->deploying @1");
  // Serialized once: both streams were handed the very same bytes.
  EXPECT_EQ(one.written.back().get(), two.written.back().get());
  ModelChange published = Change("b", "inactive", "deploying");
  published.revision = 1;
  EXPECT_EQ(*one.written.back(), *DeploymentsProjection({}).EncodeChange(
                                     published.before_entry.get(), published, feed_->instance()));
  // Per-stream events are each stream's own.
  EXPECT_NE(one.written[0].get(), two.written[0].get());
  feed_->Unsubscribe(one.watch());
  feed_->Unsubscribe(two.watch());
}

TEST_F(ChangeFeedTest, ASlowReaderGetsItsOwnMergedEventAndSharedBytesOtherwise) {
  RecordingStream slow;
  RecordingStream fast;
  ASSERT_TRUE(feed_->Subscribe(slow.watch(), "").ok());
  ASSERT_TRUE(feed_->Subscribe(fast.watch(), "").ok());
  fast.ReadAll();
  // `slow` has its first INITIAL in flight and reads nothing while three changes land.
  feed_->Publish(Snapshot(), {Change("a", "active", "deactivating")});
  fast.ReadAll();
  feed_->Publish(Snapshot(), {Change("b", "inactive", "deploying")});
  fast.ReadAll();
  feed_->Publish(Snapshot(), {Change("a", "deactivating", "inactive")});
  fast.ReadAll();
  slow.ReadAll();
  EXPECT_THAT(
      Describe(fast.events),
      ElementsAre("INITIAL a active @0", "INITIAL b inactive @0", "INITIAL_STATE_COMPLETE @0",
                  "CHANGED a active->deactivating @1", "CHANGED b inactive->deploying @2",
                  "CHANGED a deactivating->inactive @3"));
  EXPECT_THAT(
      Describe(slow.events),
      ElementsAre("INITIAL a active @0", "INITIAL b inactive @0", "INITIAL_STATE_COMPLETE @0",
                  "CHANGED b inactive->deploying @2", "CHANGED a active->inactive @3"));
  // b's change reached `slow` unmerged: the bytes `fast` got. a's is merged: its own.
  EXPECT_EQ(slow.written[3].get(), fast.written[4].get());
  EXPECT_NE(*slow.written[4], *fast.written[5]);
  EXPECT_NE(*slow.written[4], *fast.written[3]);
  feed_->Unsubscribe(slow.watch());
  feed_->Unsubscribe(fast.watch());
}

// A client connection that logs when the feed begins and ends its writes.
class RecordingConnection final : public SinkConnection {
 public:
  RecordingConnection(std::string name, std::vector<std::string>* log)
      : name_(std::move(name)), log_(log) {}
  void BeginWrites() override {
    log_->push_back("begin " + name_);
    ++open_;
  }
  void EndWrites() override {
    log_->push_back("end " + name_);
    --open_;
  }
  // Logs a write of one of its streams, and whether the connection was begun.
  void LogWrite() { log_->push_back((open_ == 1 ? "write " : "UNBURST write ") + name_); }

 private:
  const std::string name_;
  std::vector<std::string>* const log_;
  int open_ = 0;
};

// The streams of one connection are written together within a pass, after
// one BeginWrites; every burst ends once the pass has written everything (a
// feed of one shard: at the end of its pass); a connection nothing is written
// to is not begun; a stream of no known connection writes as before.
TEST_F(ChangeFeedTest, APassWritesEachConnectionsStreamsTogether) {
  std::vector<std::string> log;
  RecordingConnection first("first", &log);
  RecordingConnection second("second", &log);
  std::vector<std::unique_ptr<RecordingStream>> streams;
  auto add = [&](RecordingConnection* connection, std::initializer_list<std::string> ids) {
    streams.push_back(std::make_unique<RecordingStream>(ids));
    RecordingStream* stream = streams.back().get();
    stream->watch()->SetConnection(connection);
    stream->on_write = [&log, connection] {
      if (connection != nullptr) {
        connection->LogWrite();
      } else {
        log.push_back("write none");
      }
    };
    ASSERT_TRUE(feed_->Subscribe(stream->watch(), "").ok());
  };
  add(&first, {"a"});
  add(&second, {"b"});
  add(&first, {});
  add(nullptr, {});
  add(&second, {"b"});
  add(&first, {"a", "b"});
  for (auto& stream : streams) stream->ReadAll();
  log.clear();

  // One change each stream tells: every write inside its connection's burst.
  feed_->Publish(Snapshot(), {Change("b", "inactive", "deploying")});
  std::vector<std::string> sorted = log;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_THAT(sorted,
              ElementsAre("begin first", "begin second", "end first", "end second", "write first",
                          "write first", "write none", "write second", "write second"));
  // ...each connection's writes together, after its begin; every end after
  // the pass's last write.
  const auto last_write = std::find_if(log.rbegin(), log.rend(), [](const std::string& entry) {
    return entry.find("write") != std::string::npos;
  });
  for (const std::string name : {"first", "second"}) {
    const auto begin = std::find(log.begin(), log.end(), "begin " + name);
    const auto first_write = std::find(log.begin(), log.end(), "write " + name);
    const auto end = std::find(log.begin(), log.end(), "end " + name);
    ASSERT_LT(begin, first_write) << name;
    EXPECT_EQ(std::count(first_write, first_write + 3, "write " + name), 2) << name;
    EXPECT_GT(end, last_write.base() - 1) << name << " ended before the pass was written";
  }
  for (auto& stream : streams) stream->ReadAll();

  // A change only streams of `first` (and the unknown one) tell: `second` is
  // never begun.
  log.clear();
  feed_->Publish(Snapshot(), {Change("a", "active", "error")});
  std::sort(log.begin(), log.end());
  EXPECT_THAT(log, ElementsAre("begin first", "end first", "write first", "write first",
                               "write first", "write none"));
  for (auto& stream : streams) feed_->Unsubscribe(stream->watch());
}

// Delivered by its owner, a change can reach a stream that subscribed after it
// was published, with it already in its initial state: never sent twice, never
// out of order, whenever the shards deliver.
TEST(ChangeFeedScheduledTest, DeliversEveryChangeOnceInOrderWhateverTheStreamsStart) {
  ChangeFeedOptions options;
  options.history_size = 100;
  options.shards = 3;                         // the late streams take turns
  options.schedule_delivery = [](size_t) {};  // delivered below, when the test says
  ChangeFeed feed(options);
  const auto deliver_all = [&feed] {
    for (size_t shard = 0; shard < 3; ++shard) feed.DeliverShard(shard);
  };
  const auto snapshot = CatalogSnapshot::Build({Custom("a", "active")}, 1, absl::Now());
  feed.Publish(snapshot, {});
  RecordingStream early({"a"});
  ASSERT_TRUE(feed.Subscribe(early.watch(), "").ok());
  std::deque<RecordingStream> late;  // each starts after a publish, before its delivery
  for (int i = 1; i <= 20; ++i) {
    feed.Publish(snapshot, {Change("a", i % 2 ? "active" : "error", i % 2 ? "error" : "active")});
    ASSERT_TRUE(
        feed.Subscribe(late.emplace_back(std::initializer_list<std::string>{"a"}, i % 3).watch(),
                       "")
            .ok());
    if (i % 3 == 0) deliver_all();  // some changes wait for two more publishes
    early.ReadAll();
    for (RecordingStream& stream : late) stream.ReadAll();
  }
  deliver_all();
  early.ReadAll();
  for (RecordingStream& stream : late) stream.ReadAll();

  std::vector<int64_t> revisions;
  for (const WatchEvent& e : early.events) {
    if (e.type() == modelcatalog::v1::WATCH_EVENT_TYPE_CHANGED) revisions.push_back(e.revision());
  }
  // A stream that reads as it goes may get merged changes, never one twice or out of order.
  ASSERT_FALSE(revisions.empty());
  EXPECT_TRUE(std::is_sorted(revisions.begin(), revisions.end()));
  EXPECT_EQ(std::adjacent_find(revisions.begin(), revisions.end()), revisions.end());
  EXPECT_EQ(revisions.back(), 20);
  for (size_t i = 0; i < late.size(); ++i) {
    const int64_t start = static_cast<int64_t>(i) + 1;  // the revision it subscribed at
    const std::vector<WatchEvent>& events = late[i].events;
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(Describe({events[0]})[0].substr(0, 9), "INITIAL a");
    EXPECT_EQ(events[1].type(), modelcatalog::v1::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE);
    EXPECT_EQ(events[1].revision(), start);
    int64_t last = start;
    for (size_t j = 2; j < events.size(); ++j) {
      EXPECT_GT(events[j].revision(), last) << "stream " << i;  // nothing it started with
      last = events[j].revision();
    }
    EXPECT_EQ(last, 20) << "stream " << i;
  }
  for (RecordingStream& stream : late) feed.Unsubscribe(stream.watch());
  feed.Unsubscribe(early.watch());
}

// The gRPC layer's way: Publish asks for each shard's delivery and the shard's
// owner runs it when it likes; until then that shard's streams see nothing.
TEST(ChangeFeedScheduledTest, EachShardIsOfferedChangesWhenItsOwnerDelivers) {
  std::vector<size_t> asked;
  ChangeFeedOptions options;
  options.shards = 3;
  options.schedule_delivery = [&asked](size_t shard) { asked.push_back(shard); };
  ChangeFeed feed(options);
  feed.Publish(CatalogSnapshot::Build({Custom("a", "active")}, 1, absl::Now()), {});
  std::deque<RecordingStream> streams;
  for (size_t shard = 0; shard < 3; ++shard) {
    ASSERT_TRUE(
        feed.Subscribe(streams.emplace_back(std::initializer_list<std::string>{"a"}, shard).watch(),
                       "")
            .ok());
    streams.back().ReadAll();
  }
  asked.clear();

  feed.Publish(CatalogSnapshot::Build({Custom("a", "error")}, 2, absl::Now()),
               {Change("a", "active", "error")});
  EXPECT_THAT(asked, ElementsAre(0, 1, 2));
  for (RecordingStream& stream : streams) EXPECT_FALSE(stream.Read()) << "delivered unasked";

  feed.DeliverShard(1);
  EXPECT_FALSE(streams[0].Read());
  EXPECT_TRUE(streams[1].Read());
  EXPECT_FALSE(streams[2].Read());
  feed.DeliverShard(1);  // nothing new: nothing twice
  EXPECT_FALSE(streams[1].Read());
  feed.DeliverShard(0);
  feed.DeliverShard(2);
  for (RecordingStream& stream : streams) {
    stream.ReadAll();
    EXPECT_EQ(Describe({stream.events.back()})[0], "CHANGED a active->error @1");
    feed.Unsubscribe(stream.watch());
  }
}

// A shard's pass keeps its connections' bursts open until every shard has
// written the change, so it leaves for all connections together; never longer
// than max_burst_hold, and never past the last stream of a connection.
TEST(ChangeFeedScheduledTest, BurstsEndTogetherOnceEveryShardHasWritten) {
  std::vector<std::string> log;
  absl::Time now = absl::Now();
  ChangeFeedOptions options;
  options.shards = 2;
  options.schedule_delivery = [](size_t) {};  // the test delivers
  options.clock = [&now] { return now; };
  ChangeFeed feed(options);
  feed.Publish(CatalogSnapshot::Build({Custom("a", "active")}, 1, now), {});
  RecordingConnection first("first", &log);
  RecordingConnection second("second", &log);
  std::deque<RecordingStream> streams;
  for (size_t shard = 0; shard < 2; ++shard) {
    RecordingConnection* connection = shard == 0 ? &first : &second;
    RecordingStream& stream = streams.emplace_back(std::initializer_list<std::string>{"a"}, shard);
    stream.watch()->SetConnection(connection);
    stream.on_write = [connection] { connection->LogWrite(); };
    ASSERT_TRUE(feed.Subscribe(stream.watch(), "").ok());
    stream.ReadAll();
  }
  log.clear();
  auto change = [&](const std::string& from, const std::string& to) {
    for (RecordingStream& stream : streams) stream.ReadAll();
    log.clear();
    feed.Publish(CatalogSnapshot::Build({Custom("a", to)}, 2, now), {Change("a", from, to)});
  };

  change("active", "error");
  feed.DeliverShard(0);
  EXPECT_THAT(log, ElementsAre("begin first", "write first")) << "ended before shard 1 wrote";
  feed.DeliverShard(1);
  EXPECT_THAT(log, ElementsAre("begin first", "write first", "begin second", "write second",
                               "end first", "end second"));

  // Shard 1 does not deliver: shard 0's burst ends once held max_burst_hold.
  change("error", "active");
  feed.DeliverShard(0);
  now += options.max_burst_hold - absl::Milliseconds(1);
  feed.DeliverShard(0);  // nothing new to write; its end looks at the held bursts
  EXPECT_THAT(log, ElementsAre("begin first", "write first"));
  now += absl::Milliseconds(1);
  feed.DeliverShard(0);
  EXPECT_THAT(log, ElementsAre("begin first", "write first", "end first"));
  feed.DeliverShard(1);
  EXPECT_THAT(log, ElementsAre("begin first", "write first", "end first", "begin second",
                               "write second", "end second"));

  // The last stream of a connection leaving ends its held burst with it.
  change("active", "error");
  feed.DeliverShard(0);
  feed.Unsubscribe(streams[0].watch());
  EXPECT_THAT(log, ElementsAre("begin first", "write first", "end first"));
  feed.DeliverShard(1);
  EXPECT_THAT(log, ElementsAre("begin first", "write first", "end first", "begin second",
                               "write second", "end second"));
  feed.Unsubscribe(streams[1].watch());
}

TEST(ChangeFeedScheduledTest, TheWatcherCapCountsEveryShardAndAStreamOfNoShardIsRefused) {
  ChangeFeedOptions options;
  options.shards = 2;
  options.max_streams = 2;
  options.schedule_delivery = [](size_t) {};
  ChangeFeed feed(options);
  feed.Publish(CatalogSnapshot::Build({Custom("a", "active")}, 1, absl::Now()), {});
  RecordingStream first({}, 0), second({}, 1), third({}, 1), stray({}, 2);
  ASSERT_TRUE(feed.Subscribe(first.watch(), "").ok());
  ASSERT_TRUE(feed.Subscribe(second.watch(), "").ok());
  const absl::Status refused = feed.Subscribe(third.watch(), "");
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(), ::testing::HasSubstr("at most 2 at once"));
  EXPECT_EQ(feed.stream_count(), 2u);
  feed.Unsubscribe(first.watch());
  feed.Unsubscribe(third.watch());  // never subscribed: changes nothing
  EXPECT_EQ(feed.stream_count(), 1u);
  EXPECT_TRUE(feed.Subscribe(third.watch(), "").ok());
  const absl::Status stray_status = feed.Subscribe(stray.watch(), "");
  EXPECT_EQ(stray_status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(stray_status.message(), ::testing::HasSubstr("shard 2 on a feed of 2"));
  feed.Unsubscribe(second.watch());
  feed.Unsubscribe(third.watch());
  EXPECT_EQ(feed.stream_count(), 0u);
}

// A delivery that runs after shutdown (its task was already scheduled) finds
// every stream ended and writes nothing more.
TEST(ChangeFeedScheduledTest, ShutdownEndsTheStreamsAndALateDeliveryWritesNothing) {
  ChangeFeedOptions options;
  options.schedule_delivery = [](size_t) {};
  ChangeFeed feed(options);
  feed.Publish(CatalogSnapshot::Build({Custom("a", "active")}, 1, absl::Now()), {});
  RecordingStream stream({"a"});
  ASSERT_TRUE(feed.Subscribe(stream.watch(), "").ok());
  stream.ReadAll();
  feed.Publish(CatalogSnapshot::Build({Custom("a", "error")}, 2, absl::Now()),
               {Change("a", "active", "error")});
  feed.Shutdown();
  feed.DeliverShard(0);
  EXPECT_FALSE(stream.Read());
  EXPECT_TRUE(stream.finished());
  EXPECT_EQ(stream.finish_status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Describe(stream.events),
              ElementsAre("INITIAL a active @0", "INITIAL_STATE_COMPLETE @0"));
  feed.Unsubscribe(stream.watch());
}

TEST_F(ChangeFeedTest, ResumeReplaysExactlyTheMissedChangesThenTheMarker) {
  RecordingStream first;
  ASSERT_TRUE(feed_->Subscribe(first.watch(), "").ok());
  feed_->Publish(Snapshot(), {Change("a", "active", "deactivating")});
  first.ReadAll();
  const std::string token = first.events.back().resume_token();
  feed_->Unsubscribe(first.watch());
  // Missed while disconnected:
  feed_->Publish(Snapshot(),
                 {Change("a", "deactivating", "inactive"), Change("b", "inactive", "deploying")});
  RecordingStream resumed;
  ASSERT_TRUE(feed_->Subscribe(resumed.watch(), token).ok());
  resumed.ReadAll();
  EXPECT_THAT(Describe(resumed.events),
              ElementsAre("CHANGED a deactivating->inactive @2", "CHANGED b inactive->deploying @3",
                          "INITIAL_STATE_COMPLETE @3"));
  feed_->Unsubscribe(resumed.watch());
}

TEST_F(ChangeFeedTest, ChangesOfOtherFieldsTakeARevisionButReachNoDeploymentWatcher) {
  RecordingStream watcher;
  ASSERT_TRUE(feed_->Subscribe(watcher.watch(), "").ok());
  watcher.ReadAll();
  const std::string token = watcher.events.back().resume_token();
  ModelChange repriced = Change("a", "active", "active");
  repriced.deployments_changed = false;  // a price, say
  feed_->Publish(Snapshot(), {repriced, Change("b", "inactive", "deploying")});
  EXPECT_EQ(feed_->revision(), 2);
  watcher.ReadAll();
  EXPECT_THAT(Describe(watcher.events),
              ElementsAre("INITIAL a active @0", "INITIAL b inactive @0",
                          "INITIAL_STATE_COMPLETE @0", "CHANGED b inactive->deploying @2"));
  // Nor on resume: the missed changes are those of deployments.
  RecordingStream resumed;
  ASSERT_TRUE(feed_->Subscribe(resumed.watch(), token).ok());
  resumed.ReadAll();
  EXPECT_THAT(Describe(resumed.events),
              ElementsAre("CHANGED b inactive->deploying @2", "INITIAL_STATE_COMPLETE @2"));
  feed_->Unsubscribe(watcher.watch());
  feed_->Unsubscribe(resumed.watch());
}

TEST_F(ChangeFeedTest, ATokenTooOldOrFromAnotherInstanceGetsAResync) {
  RecordingStream first;
  ASSERT_TRUE(feed_->Subscribe(first.watch(), "").ok());
  first.ReadAll();
  const std::string old_token = first.events.back().resume_token();  // revision 0
  feed_->Unsubscribe(first.watch());
  for (int i = 0; i < 5; ++i) {  // more than the 4 retained
    feed_->Publish(Snapshot(),
                   {Change("a", i % 2 ? "error" : "active", i % 2 ? "active" : "error")});
  }
  RecordingStream stale;
  ASSERT_TRUE(feed_->Subscribe(stale.watch(), old_token).ok());
  stale.ReadAll();
  EXPECT_THAT(Describe(stale.events),
              ElementsAre("INITIAL a active @5 resync", "INITIAL b inactive @5 resync",
                          "INITIAL_STATE_COMPLETE @5 resync"));
  feed_->Unsubscribe(stale.watch());

  RecordingStream foreign;
  ASSERT_TRUE(
      feed_->Subscribe(foreign.watch(), EncodeResumeToken({feed_->instance() + 1, 5})).ok());
  foreign.ReadAll();
  EXPECT_TRUE(foreign.events.back().resync());
  feed_->Unsubscribe(foreign.watch());
}

TEST_F(ChangeFeedTest, RefusesAGarbageToken) {
  RecordingStream stream;
  absl::Status status = feed_->Subscribe(stream.watch(), "garbage");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      status.message(),
      "resume_token is not a valid resume token: pass the resume_token of an event unchanged");
  EXPECT_EQ(feed_->stream_count(), 0u);
}

TEST_F(ChangeFeedTest, SendsProgressOnlyToIdleStreams) {
  RecordingStream idle;
  RecordingStream busy;
  ASSERT_TRUE(feed_->Subscribe(idle.watch(), "").ok());
  ASSERT_TRUE(feed_->Subscribe(busy.watch(), "").ok());
  idle.ReadAll();
  feed_->Publish(Snapshot(), {Change("zz", "", "")});  // a change nobody watches moves the revision
  now_ += absl::Seconds(9);
  feed_->SendProgress();
  idle.ReadAll();
  EXPECT_EQ(idle.events.back().type(), modelcatalog::v1::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE);
  now_ += absl::Seconds(2);
  feed_->SendProgress();
  idle.ReadAll();
  EXPECT_EQ(idle.events.back().type(), modelcatalog::v1::WATCH_EVENT_TYPE_PROGRESS);
  EXPECT_EQ(idle.events.back().revision(), 1);
  EXPECT_FALSE(idle.events.back().resume_token().empty());
  // `busy` still has a write in flight: no progress for it.
  busy.ReadAll();
  for (const WatchEvent& e : busy.events)
    EXPECT_NE(e.type(), modelcatalog::v1::WATCH_EVENT_TYPE_PROGRESS);
  feed_->Unsubscribe(idle.watch());
  feed_->Unsubscribe(busy.watch());
}

TEST_F(ChangeFeedTest, ShutdownEndsStreamsOnlyBetweenWrites) {
  RecordingStream stream;
  ASSERT_TRUE(feed_->Subscribe(stream.watch(), "").ok());
  feed_->Shutdown();
  EXPECT_FALSE(stream.finished());  // a write is in flight
  stream.Read();
  EXPECT_TRUE(stream.finished());
  EXPECT_EQ(stream.finish_status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(stream.finish_status().message(), "the server is shutting down");
  RecordingStream late;
  EXPECT_EQ(feed_->Subscribe(late.watch(), "").code(), absl::StatusCode::kUnavailable);
  feed_->Unsubscribe(stream.watch());
}

TEST(ChangeFeedEmptyTest, RefusesStreamsBeforeTheFirstCatalog) {
  ChangeFeed feed;
  RecordingStream stream;
  absl::Status status = feed.Subscribe(stream.watch(), "");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
}

TEST(DeploymentStatusesDifferTest, ComparesCountAndStatuses) {
  EXPECT_FALSE(DeploymentStatusesDiffer(DeploymentsWith("active"), DeploymentsWith("active")));
  EXPECT_TRUE(DeploymentStatusesDiffer(DeploymentsWith("active"), DeploymentsWith("error")));
  EXPECT_TRUE(DeploymentStatusesDiffer(DeploymentsWith("active"), Deployments()));
  Deployments with_other_fields = DeploymentsWith("active");
  (*with_other_fields[0].mutable_extra_fields()->mutable_fields())["id"].set_string_value("d1");
  EXPECT_FALSE(DeploymentStatusesDiffer(DeploymentsWith("active"), with_other_fields));
}

}  // namespace
}  // namespace modelcatalog::catalog
