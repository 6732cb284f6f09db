// watch and watch_etcd: many streams watching one thing; memory per stream and
// the time one change takes to reach all of them. The same client, connections,
// rounds and timing points serve both targets: catalog-server's
// WatchDeployments on one model, and etcd's Watch on one key.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "benchmarks/load/client_queue.h"
#include "benchmarks/load/closed_loop.h"
#include "benchmarks/load/etcd_process.h"
#include "benchmarks/load/http2_stream_client.h"
#include "benchmarks/load/proc_stats.h"
#include "benchmarks/load/scenarios.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/async_stream.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"

namespace modelcatalog::bench {
namespace {

using ::modelcatalog::v1::ModelCatalogService;
using ::modelcatalog::v1::WatchDeploymentsRequest;
using ::modelcatalog::v1::WatchDeploymentsResponse;
using ::modelcatalog::v1::WatchEventType;
using ::modelcatalog::v1::WatchModelsRequest;
using ::modelcatalog::v1::WatchModelsResponse;

struct WatchShared {
  std::atomic<int> markers{0};
  std::atomic<int64_t> deliveries{0};   // changes received, all streams
  std::atomic<int64_t> event_bytes{0};  // size of the last change message received
  absl::Mutex mu;
  int finished ABSL_GUARDED_BY(mu) = 0;  // streams that ended
};

// The watchers read on completion queues of catalog-bench (ClientQueue), one
// per connection. With callback reactors, as a first version had, the
// client's own callback threads napped 100 ms before the first round: traced,
// the server had written all 10,000 events before the client read the first.
// One stream, whatever it watches: records when the server confirmed the watch
// (the marker), when each change arrived, and how the stream ended.
class WatchStream {
 public:
  WatchStream(WatchShared* shared, int rounds)
      : shared_(shared), rounds_(rounds), arrivals_(new std::atomic<int64_t>[rounds]) {
    for (int i = 0; i < rounds; ++i) arrivals_[i].store(0, std::memory_order_relaxed);
  }
  virtual ~WatchStream() = default;

  void Cancel() {
    cancelled_by_us_.store(true, std::memory_order_release);
    CancelCall();
  }

  // When this stream received the change of round `round`; 0 if it did not.
  int64_t Arrival(int round) const { return arrivals_[round].load(std::memory_order_acquire); }
  // Read once the stream ended (shared->finished counts it).
  bool ended_by_us() const { return ended_by_us_; }
  int code() const { return code_; }

 protected:
  // A tag that calls one step of a stream of type T.
  template <typename T>
  class Step final : public ClientQueue::Tag {
   public:
    Step(T* stream, void (T::*step)(bool)) : stream_(stream), step_(step) {}
    void Proceed(bool ok) override { (stream_->*step_)(ok); }

   private:
    T* const stream_;
    void (T::*const step_)(bool);
  };

  // Ends the call; how it ended follows (MarkEnded).
  virtual void CancelCall() { context_.TryCancel(); }

  void MarkOpen() {
    if (marker_) return;
    marker_ = true;
    shared_->markers.fetch_add(1, std::memory_order_release);
  }

  void MarkChange(int64_t now, size_t bytes) {
    if (changes_ < rounds_) arrivals_[changes_].store(now, std::memory_order_release);
    ++changes_;
    shared_->event_bytes.store(static_cast<int64_t>(bytes), std::memory_order_relaxed);
    shared_->deliveries.fetch_add(1, std::memory_order_release);
  }

  // Once status_ holds how the stream ended.
  void MarkEnded() {
    code_ = static_cast<int>(status_.error_code());
    ended_by_us_ = cancelled_by_us_.load(std::memory_order_acquire);
    absl::MutexLock lock(&shared_->mu);  // publishes code_ and ended_by_us_ with the count
    ++shared_->finished;
  }

  WatchShared* const shared_;
  grpc::ClientContext context_;
  grpc::Status status_;

 private:
  const int rounds_;
  bool marker_ = false;
  int changes_ = 0;
  std::unique_ptr<std::atomic<int64_t>[]> arrivals_;
  std::atomic<bool> cancelled_by_us_{false};
  bool ended_by_us_ = false;
  int code_ = -1;
};

// WatchDeployments of one model: the marker is INITIAL_STATE_COMPLETE, a change
// a CHANGED event of that model.
class CatalogWatcher final : public WatchStream {
 public:
  CatalogWatcher(WatchShared* shared, int rounds, const std::string& model_id)
      : WatchStream(shared, rounds), model_id_(model_id) {}

  void Begin(ModelCatalogService::Stub* stub, grpc::CompletionQueue* queue) {
    request_.add_model_ids(model_id_);
    reader_ = stub->PrepareAsyncWatchDeployments(&context_, request_, queue);
    reader_->StartCall(&started_);
  }

 private:
  void Started(bool ok) {
    if (!ok) {
      reader_->Finish(&status_, &finished_);
      return;
    }
    reader_->Read(&event_, &read_);
  }

  void Read(bool ok) {
    if (!ok) {  // the stream ended: its status follows
      reader_->Finish(&status_, &finished_);
      return;
    }
    const int64_t now = NowNanos();
    if (event_.type() == WatchEventType::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE) {
      MarkOpen();
    } else if (event_.type() == WatchEventType::WATCH_EVENT_TYPE_CHANGED &&
               event_.model_id() == model_id_) {
      MarkChange(now, event_.ByteSizeLong());
    }
    reader_->Read(&event_, &read_);
  }

  void Finished(bool) { MarkEnded(); }

  const std::string& model_id_;
  WatchDeploymentsRequest request_;
  WatchDeploymentsResponse event_;
  std::unique_ptr<grpc::ClientAsyncReader<WatchDeploymentsResponse>> reader_;
  Step<CatalogWatcher> started_{this, &CatalogWatcher::Started};
  Step<CatalogWatcher> read_{this, &CatalogWatcher::Read};
  Step<CatalogWatcher> finished_{this, &CatalogWatcher::Finished};
};

// WatchModels of one model (a filter on its id, the BASIC view): the marker is
// INITIAL_STATE_COMPLETE, a change a CHANGED event of that model.
class ModelsWatcher final : public WatchStream {
 public:
  ModelsWatcher(WatchShared* shared, int rounds, const std::string& model_id)
      : WatchStream(shared, rounds), model_id_(model_id) {}

  void Begin(ModelCatalogService::Stub* stub, grpc::CompletionQueue* queue) {
    request_.set_filter("id = \"" + model_id_ + "\"");
    request_.set_view(modelcatalog::v1::MODEL_VIEW_BASIC);
    reader_ = stub->PrepareAsyncWatchModels(&context_, request_, queue);
    reader_->StartCall(&started_);
  }

 private:
  void Started(bool ok) {
    if (!ok) {
      reader_->Finish(&status_, &finished_);
      return;
    }
    reader_->Read(&event_, &read_);
  }

  void Read(bool ok) {
    if (!ok) {
      reader_->Finish(&status_, &finished_);
      return;
    }
    const int64_t now = NowNanos();
    if (event_.type() == WatchEventType::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE) {
      MarkOpen();
    } else if (event_.type() == WatchEventType::WATCH_EVENT_TYPE_CHANGED &&
               event_.model_id() == model_id_) {
      MarkChange(now, event_.ByteSizeLong());
    }
    reader_->Read(&event_, &read_);
  }

  void Finished(bool) { MarkEnded(); }

  const std::string& model_id_;
  WatchModelsRequest request_;
  WatchModelsResponse event_;
  std::unique_ptr<grpc::ClientAsyncReader<WatchModelsResponse>> reader_;
  Step<ModelsWatcher> started_{this, &ModelsWatcher::Started};
  Step<ModelsWatcher> read_{this, &ModelsWatcher::Read};
  Step<ModelsWatcher> finished_{this, &ModelsWatcher::Finished};
};

// etcd's Watch of one key, one gRPC stream per watcher (etcd's own client
// would share a stream between watches; the catalog's client cannot, so
// neither does this one). The marker is the response that says the watch was
// created, a change a PUT event of the key.
class EtcdWatcher final : public WatchStream {
 public:
  EtcdWatcher(WatchShared* shared, int rounds, const std::string& key)
      : WatchStream(shared, rounds), key_(key) {}

  void Begin(etcdserverpb::Watch::Stub* stub, grpc::CompletionQueue* queue) {
    // start_revision 0: changes after the watch is created.
    create_.mutable_create_request()->set_key(key_);
    stream_ = stub->PrepareAsyncWatch(&context_, queue);
    stream_->StartCall(&started_);
  }

 private:
  void Started(bool ok) {
    if (!ok) {
      stream_->Finish(&status_, &finished_);
      return;
    }
    // The stream stays open for writing: etcd ends every watch of a stream
    // whose client half-closes it.
    stream_->Write(create_, &written_);
    stream_->Read(&response_, &read_);
  }

  void Written(bool) {}  // a failed write ends the stream, which the read sees

  void Read(bool ok) {
    if (!ok) {
      stream_->Finish(&status_, &finished_);
      return;
    }
    const int64_t now = NowNanos();
    if (response_.created()) MarkOpen();
    for (const mvccpb::Event& event : response_.events()) {
      if (event.type() == mvccpb::Event::PUT && event.kv().key() == key_) {
        MarkChange(now, response_.ByteSizeLong());
      }
    }
    stream_->Read(&response_, &read_);
  }

  void Finished(bool) { MarkEnded(); }

  const std::string& key_;
  etcdserverpb::WatchRequest create_;
  etcdserverpb::WatchResponse response_;
  std::unique_ptr<
      grpc::ClientAsyncReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
      stream_;
  Step<EtcdWatcher> started_{this, &EtcdWatcher::Started};
  Step<EtcdWatcher> written_{this, &EtcdWatcher::Written};
  Step<EtcdWatcher> read_{this, &EtcdWatcher::Read};
  Step<EtcdWatcher> finished_{this, &EtcdWatcher::Finished};
};

// What a message of a watch stream is to the client timing it.
enum class Seen { kOther, kMarker, kChange };

// The bytes of `buffer`, in one piece.
std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  buffer.Dump(&slices).IgnoreError();
  if (slices.size() == 1) return std::string(slices[0].begin(), slices[0].end());
  std::string bytes;
  for (const grpc::Slice& slice : slices) bytes.append(slice.begin(), slice.end());
  return bytes;
}

// Reads fields of a serialized message: calls `field(number, varint, bytes)`
// for each, with `bytes` set for a length-delimited field; false if malformed.
template <typename Field>
bool ForEachField(absl::string_view message, Field field) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(message.data()),
                                            static_cast<int>(message.size()));
  while (uint32_t tag = in.ReadTag()) {
    const int number = static_cast<int>(tag >> 3);
    switch (tag & 7) {
      case 0: {
        uint64_t value = 0;
        if (!in.ReadVarint64(&value)) return false;
        field(number, value, absl::string_view());
        break;
      }
      case 2: {
        uint32_t length = 0;
        const void* data = nullptr;
        int size = 0;
        if (!in.ReadVarint32(&length) || !in.GetDirectBufferPointer(&data, &size) ||
            static_cast<uint32_t>(size) < length) {
          return false;
        }
        field(number, 0, absl::string_view(static_cast<const char*>(data), length));
        in.Skip(static_cast<int>(length));
        break;
      }
      default:
        if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) return false;
    }
  }
  return true;
}

// A WatchDeploymentsResponse or WatchModelsResponse (type = 1, model_id = 2).
Seen SeenInCatalogEvent(absl::string_view message, const std::string& model_id) {
  uint64_t type = 0;
  bool ours = false;
  ForEachField(message, [&](int number, uint64_t varint, absl::string_view bytes) {
    if (number == 1) type = varint;
    if (number == 2) ours = bytes == model_id;
  });
  if (type == WatchEventType::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE) return Seen::kMarker;
  if (type == WatchEventType::WATCH_EVENT_TYPE_CHANGED && ours) return Seen::kChange;
  return Seen::kOther;
}

// An etcd WatchResponse: created = 3, events = 11; an Event's type = 1 (PUT is
// 0, so absent), kv = 2; a KeyValue's key = 1.
Seen SeenInEtcdResponse(absl::string_view message, const std::string& key) {
  bool created = false;
  bool put = false;
  ForEachField(message, [&](int number, uint64_t varint, absl::string_view bytes) {
    if (number == 3) created = varint != 0;
    if (number != 11) return;
    uint64_t type = 0;
    bool ours = false;
    ForEachField(bytes, [&](int event_field, uint64_t event_varint, absl::string_view kv) {
      if (event_field == 1) type = event_varint;
      if (event_field != 2) return;
      ForEachField(kv, [&](int kv_field, uint64_t, absl::string_view value) {
        if (kv_field == 1) ours = value == key;
      });
    });
    put = put || (type == mvccpb::Event::PUT && ours);
  });
  if (put) return Seen::kChange;
  return created ? Seen::kMarker : Seen::kOther;
}

// Any watch read as bytes (--watch_decode=fields): its request is written as
// bytes on a generic call; `classify` says what each message is. A catalog
// method is server-streaming, so the client half-closes after its request;
// etcd's Watch is not (it ends the watches of a stream half-closed).
class RawWatcher final : public WatchStream {
 public:
  using Classify = std::function<Seen(absl::string_view message)>;
  RawWatcher(WatchShared* shared, int rounds, Classify classify)
      : WatchStream(shared, rounds), classify_(std::move(classify)) {}

  void Begin(grpc::GenericStub* stub, const std::string& method, const std::string& request,
             bool half_close, grpc::CompletionQueue* queue) {
    grpc::Slice slice(request);
    request_ = grpc::ByteBuffer(&slice, 1);
    half_close_ = half_close;
    stream_ = stub->PrepareCall(&context_, method, queue);
    stream_->StartCall(&started_);
  }

 private:
  void Started(bool ok) {
    if (!ok) {
      stream_->Finish(&status_, &finished_);
      return;
    }
    stream_->Write(request_, &written_);
    stream_->Read(&event_, &read_);
  }

  void Written(bool ok) {
    if (ok && half_close_) stream_->WritesDone(&closed_);
  }
  void Closed(bool) {}

  void Read(bool ok) {
    if (!ok) {
      stream_->Finish(&status_, &finished_);
      return;
    }
    const int64_t now = NowNanos();
    // Read in place when the message is in one slice, as it nearly always is;
    // copied into one piece otherwise.
    grpc::Slice single;
    std::string joined;
    absl::string_view message;
    if (event_.TrySingleSlice(&single).ok()) {
      message = absl::string_view(reinterpret_cast<const char*>(single.begin()), single.size());
    } else {
      joined = Flatten(event_);
      message = joined;
    }
    switch (classify_(message)) {
      case Seen::kMarker:
        MarkOpen();
        break;
      case Seen::kChange:
        MarkChange(now, message.size());
        break;
      case Seen::kOther:
        break;
    }
    stream_->Read(&event_, &read_);
  }

  void Finished(bool) { MarkEnded(); }

  const Classify classify_;
  grpc::ByteBuffer request_;
  bool half_close_ = false;
  grpc::ByteBuffer event_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream_;
  Step<RawWatcher> started_{this, &RawWatcher::Started};
  Step<RawWatcher> written_{this, &RawWatcher::Written};
  Step<RawWatcher> closed_{this, &RawWatcher::Closed};
  Step<RawWatcher> read_{this, &RawWatcher::Read};
  Step<RawWatcher> finished_{this, &RawWatcher::Finished};
};

// Any watch read by catalog-bench's own HTTP/2 reader (--watch_client=http2),
// its messages decoded as RawWatcher decodes them.
class Http2Watcher final : public WatchStream, public Http2StreamHandler {
 public:
  Http2Watcher(WatchShared* shared, int rounds, RawWatcher::Classify classify,
               Http2StreamClient* client)
      : WatchStream(shared, rounds), classify_(std::move(classify)), client_(client) {}

  void OnMessage(absl::string_view message, int64_t now) override {
    switch (classify_(message)) {
      case Seen::kMarker:
        MarkOpen();
        break;
      case Seen::kChange:
        MarkChange(now, message.size());
        break;
      case Seen::kOther:
        break;
    }
  }

  void OnClose(int code, absl::string_view message) override {
    status_ = grpc::Status(static_cast<grpc::StatusCode>(code), std::string(message));
    MarkEnded();
  }

 private:
  void CancelCall() override { client_->Cancel(this); }

  const RawWatcher::Classify classify_;
  Http2StreamClient* const client_;
};

// The call a watch is, as bytes: what RawWatcher and Http2Watcher send and how
// they read what comes back.
struct RawWatchCall {
  std::string method;   // "/package.Service/Method"
  std::string request;  // the one request message, serialized
  bool half_close = true;
  RawWatcher::Classify classify;
};

// What is watched and how it is changed.
class WatchTarget {
 public:
  virtual ~WatchTarget() = default;
  // Called once per connection, in order, before any stream opens.
  virtual void AddConnection(const std::shared_ptr<grpc::Channel>& channel) = 0;
  // Opens one stream on connection `connection`, reading on `queue`.
  virtual std::unique_ptr<WatchStream> Open(WatchShared* shared, int rounds, int connection,
                                            grpc::CompletionQueue* queue) = 0;
  // Makes the change of round `round`: `sent` is when the call that makes it
  // went out (deliveries are timed from it), `returned` when it came back.
  virtual bool Change(int round, int64_t* sent, int64_t* returned) = 0;
  // A unary call on connection `connection`, made while a change fans out on
  // it: how long it took (nanoseconds), or -1 if the target has none to make.
  virtual int64_t CallOnConnection(int connection) { return -1; }
  // The watch as bytes, for the readers that decode fields.
  virtual RawWatchCall RawCall() const = 0;
};

class CatalogTarget final : public WatchTarget {
 public:
  CatalogTarget(BenchContext& context, WatchMethod method, bool decode_fields,
                std::string model_id, std::string status)
      : context_(context),
        method_(method),
        decode_fields_(decode_fields),
        model_id_(std::move(model_id)),
        status_(std::move(status)),
        control_(ModelCatalogService::NewStub(context.control)) {}

  void AddConnection(const std::shared_ptr<grpc::Channel>& channel) override {
    stubs_.push_back(ModelCatalogService::NewStub(channel));
    generic_stubs_.push_back(std::make_unique<grpc::GenericStub>(channel));
  }

  std::unique_ptr<WatchStream> Open(WatchShared* shared, int rounds, int connection,
                                    grpc::CompletionQueue* queue) override {
    if (decode_fields_) {
      RawWatchCall call = RawCall();
      auto watcher = std::make_unique<RawWatcher>(shared, rounds, std::move(call.classify));
      watcher->Begin(generic_stubs_[connection].get(), call.method, call.request,
                     call.half_close, queue);
      return watcher;
    }
    if (method_ == WatchMethod::kWatchModels) {
      auto watcher = std::make_unique<ModelsWatcher>(shared, rounds, model_id_);
      watcher->Begin(stubs_[connection].get(), queue);
      return watcher;
    }
    auto watcher = std::make_unique<CatalogWatcher>(shared, rounds, model_id_);
    watcher->Begin(stubs_[connection].get(), queue);
    return watcher;
  }

  RawWatchCall RawCall() const override {
    RawWatchCall call;
    if (method_ == WatchMethod::kWatchModels) {
      WatchModelsRequest request;
      request.set_filter("id = \"" + model_id_ + "\"");
      request.set_view(modelcatalog::v1::MODEL_VIEW_BASIC);
      call.method = "/modelcatalog.v1.ModelCatalogService/WatchModels";
      call.request = request.SerializeAsString();
    } else {
      WatchDeploymentsRequest request;
      request.add_model_ids(model_id_);
      call.method = "/modelcatalog.v1.ModelCatalogService/WatchDeployments";
      call.request = request.SerializeAsString();
    }
    call.classify = [id = &model_id_](absl::string_view message) {
      return SeenInCatalogEvent(message, *id);
    };
    return call;
  }

  // The model's status changes on the hub, then a live GetModel makes the
  // server look at once and publish the change.
  bool Change(int round, int64_t* sent, int64_t* returned) override {
    const std::string next = status_ == "error" ? "active" : "error";
    const HttpResult set = context_.hub->SetStatus(model_id_, next);
    if (set.status != 200) {
      std::fprintf(stderr, "catalog-bench: watch: PUT status answered %ld: %s\n", set.status,
                   set.body.substr(0, 200).c_str());
      return false;
    }
    status_ = next;
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    modelcatalog::v1::GetModelRequest request;
    request.set_id(model_id_);
    request.set_live(true);
    modelcatalog::v1::GetModelResponse response;
    *sent = NowNanos();
    const grpc::Status live = control_->GetModel(&call, request, &response);
    *returned = NowNanos();
    if (!live.ok()) {
      std::fprintf(stderr, "catalog-bench: watch: live GetModel failed: %s %s\n",
                   StatusCodeName(live.error_code()), live.error_message().c_str());
      return false;
    }
    return true;
  }

  int64_t CallOnConnection(int connection) override {
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    modelcatalog::v1::GetModelRequest request;
    request.set_id(model_id_);
    modelcatalog::v1::GetModelResponse response;
    const int64_t start = NowNanos();
    if (stubs_.empty()) return -1;  // the streams are not on gRPC channels of this process
    const grpc::Status status =
        stubs_[connection % stubs_.size()]->GetModel(&call, request, &response);
    return status.ok() ? NowNanos() - start : -1;
  }

 private:
  BenchContext& context_;
  const WatchMethod method_;
  const bool decode_fields_;
  const std::string model_id_;
  std::string status_;
  std::unique_ptr<ModelCatalogService::Stub> control_;
  std::vector<std::unique_ptr<ModelCatalogService::Stub>> stubs_;
  std::vector<std::unique_ptr<grpc::GenericStub>> generic_stubs_;
};

class EtcdTarget final : public WatchTarget {
 public:
  EtcdTarget(const std::shared_ptr<grpc::Channel>& control, std::string key, size_t value_bytes,
             bool decode_fields)
      : kv_(etcdserverpb::KV::NewStub(control)),
        key_(std::move(key)),
        value_bytes_(value_bytes),
        decode_fields_(decode_fields) {}

  void AddConnection(const std::shared_ptr<grpc::Channel>& channel) override {
    stubs_.push_back(etcdserverpb::Watch::NewStub(channel));
    generic_stubs_.push_back(std::make_unique<grpc::GenericStub>(channel));
  }

  std::unique_ptr<WatchStream> Open(WatchShared* shared, int rounds, int connection,
                                    grpc::CompletionQueue* queue) override {
    if (decode_fields_) {
      RawWatchCall call = RawCall();
      auto watcher = std::make_unique<RawWatcher>(shared, rounds, std::move(call.classify));
      watcher->Begin(generic_stubs_[connection].get(), call.method, call.request,
                     call.half_close, queue);
      return watcher;
    }
    auto watcher = std::make_unique<EtcdWatcher>(shared, rounds, key_);
    watcher->Begin(stubs_[connection].get(), queue);
    return watcher;
  }

  RawWatchCall RawCall() const override {
    RawWatchCall call;
    etcdserverpb::WatchRequest create;
    create.mutable_create_request()->set_key(key_);
    call.method = "/etcdserverpb.Watch/Watch";
    call.request = create.SerializeAsString();
    call.half_close = false;
    call.classify = [key = &key_](absl::string_view message) {
      return SeenInEtcdResponse(message, *key);
    };
    return call;
  }

  // One Put of the key, its value a status padded to the size asked for.
  bool Change(int round, int64_t* sent, int64_t* returned) override {
    std::string value = round % 2 == 0 ? "error" : "active";
    value.resize(std::max(value.size(), value_bytes_), ' ');
    return Put(value, sent, returned);
  }

  bool Put(const std::string& value, int64_t* sent, int64_t* returned) {
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    etcdserverpb::PutRequest request;
    request.set_key(key_);
    request.set_value(value);
    etcdserverpb::PutResponse response;
    *sent = NowNanos();
    const grpc::Status put = kv_->Put(&call, request, &response);
    *returned = NowNanos();
    if (!put.ok()) {
      std::fprintf(stderr, "catalog-bench: watch_etcd: Put failed: %s %s\n",
                   StatusCodeName(put.error_code()), put.error_message().c_str());
      return false;
    }
    return true;
  }

 private:
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  const std::string key_;
  const size_t value_bytes_;
  const bool decode_fields_;
  std::vector<std::unique_ptr<etcdserverpb::Watch::Stub>> stubs_;
  std::vector<std::unique_ptr<grpc::GenericStub>> generic_stubs_;
};

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[(values.size() - 1) / 2];
}

// "name×threads cpu ms/round (voluntary/involuntary switches per round)", the
// busiest thread groups first, those under 1% of the total left out.
std::string DescribeThreads(const ThreadStats& delta, int rounds) {
  std::vector<std::pair<std::string, ThreadGroupStats>> groups(delta.begin(), delta.end());
  std::sort(groups.begin(), groups.end(),
            [](const auto& a, const auto& b) { return a.second.cpu_nanos > b.second.cpu_nanos; });
  int64_t total = 0;
  for (const auto& [name, group] : groups) total += group.cpu_nanos;
  std::string text;
  for (const auto& [name, group] : groups) {
    if (group.cpu_nanos * 100 < total) continue;
    absl::StrAppend(&text, text.empty() ? "" : "; ",
                    absl::StrFormat("%s x%d %.1f ms (%.0f/%.0f switches)", name, group.threads,
                                    group.cpu_nanos / 1e6 / rounds,
                                    static_cast<double>(group.voluntary_switches) / rounds,
                                    static_cast<double>(group.involuntary_switches) / rounds));
  }
  return text;
}

// Opens the streams on `address`, measures the server's memory for them, then
// makes `options.rounds` changes and times each stream's receipt of each.
void MeasureWatch(const std::string& address, int server_pid, const char* change_name,
                  WatchTarget& target, const WatchOptions& options, ScenarioResult& result) {
  WatchShared shared;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  // Declared before the watchers: the queues and the HTTP/2 reader outlive
  // them (destroyed after).
  std::vector<std::unique_ptr<ClientQueue>> queues;
  std::unique_ptr<Http2StreamClient> http2;
  const bool on_http2 = options.client == WatchClient::kHttp2;
  int queue_count = 0;
  if (on_http2) {
    absl::StatusOr<std::unique_ptr<Http2StreamClient>> connected =
        Http2StreamClient::Connect(address, options.connections);
    if (!connected.ok()) {
      std::fprintf(stderr, "catalog-bench: %s: %s\n", result.name.c_str(),
                   connected.status().ToString().c_str());
      return;
    }
    http2 = *std::move(connected);
  } else {
    for (int i = 0; i < options.connections; ++i) {
      channels.push_back(MakeConnection(address, 1000 + i));
      if (!Connect(channels.back(), absl::Seconds(30))) {
        std::fprintf(stderr, "catalog-bench: %s connection %d did not connect\n",
                     result.name.c_str(), i);
        return;
      }
      target.AddConnection(channels.back());
    }
    queue_count = options.client_queues > 0 ? std::min(options.client_queues, options.connections)
                                            : options.connections;
    for (int i = 0; i < queue_count; ++i) queues.push_back(std::make_unique<ClientQueue>());
  }

  absl::SleepFor(absl::Milliseconds(500));
  const int64_t rss_before = ReadStatusKib(server_pid, "VmRSS");

  // Open every stream and wait for every marker.
  std::vector<std::unique_ptr<WatchStream>> watchers;
  watchers.reserve(options.watchers);
  const int64_t open_start = NowNanos();
  for (int i = 0; i < options.watchers; ++i) {
    const int connection = i % options.connections;
    if (on_http2) {
      RawWatchCall call = target.RawCall();
      auto watcher = std::make_unique<Http2Watcher>(&shared, options.rounds,
                                                    std::move(call.classify), http2.get());
      http2->Open(connection, std::move(call.method), std::move(call.request), call.half_close,
                  watcher.get());
      watchers.push_back(std::move(watcher));
      continue;
    }
    watchers.push_back(target.Open(&shared, options.rounds, connection,
                                   queues[connection % queue_count]->queue()));
  }
  const bool all_open = WaitFor(
      [&] {
        if (shared.markers.load(std::memory_order_acquire) == options.watchers) return true;
        absl::MutexLock lock(&shared.mu);
        return shared.finished + shared.markers.load() >= options.watchers;
      },
      options.open_timeout);
  const int64_t open_ns = NowNanos() - open_start;
  const int markers = shared.markers.load(std::memory_order_acquire);
  absl::SleepFor(absl::Seconds(1));
  const int64_t rss_after = ReadStatusKib(server_pid, "VmRSS");
  result.AddExtra("watchers", static_cast<int64_t>(options.watchers));
  result.AddExtraString("client", on_http2 ? "http2" : "grpc");
  if (!on_http2) result.AddExtra("client_queues", static_cast<int64_t>(queue_count));
  result.AddExtraString("client_decodes",
                        on_http2 || options.decode_fields ? "fields" : "message");
  result.AddExtra("watchers_with_marker", static_cast<int64_t>(markers));
  result.AddExtra("open_all_seconds", open_ns / 1e9);
  result.AddExtra("server_rss_before_kib", rss_before);
  result.AddExtra("server_rss_after_kib", rss_after);
  if (rss_before > 0 && rss_after > rss_before && markers > 0) {
    result.AddExtra("kib_per_watcher", static_cast<double>(rss_after - rss_before) / markers);
  } else if (rss_before > 0 && markers > 0) {
    // The streams fit in memory the allocator kept from an earlier scenario's
    // (watch before watch_models): their size cannot be told from the RSS. Run
    // the scenario first on a fresh server to measure it.
    result.AddExtra("memory_reused", static_cast<int64_t>(1));
  }
  if (!all_open) {
    std::fprintf(stderr, "catalog-bench: %s: only %d of %d streams got their marker\n",
                 result.name.c_str(), markers, options.watchers);
  }

  // Each round: one change, then wait until every open stream has it. The CPU
  // time of every thread of both processes is read around each round: which
  // side is busy for how long, and how often its threads wake up.
  const double cpu0 = ReadCpuSeconds(server_pid);
  const int64_t measure_start = NowNanos();
  int64_t expected = 0;
  int64_t missing = 0;
  LatencySamples change_calls, connection_calls;
  std::vector<double> spreads_ms, first_ms, server_cpu_ms, client_cpu_ms, client_busy;
  ThreadStats server_threads, client_threads;
  for (int round = 0; round < options.rounds; ++round) {
    const ThreadStats server_before = ReadThreadStats(server_pid);
    const ThreadStats client_before = ReadThreadStats(getpid());
    int64_t sent = 0, returned = 0;
    if (!target.Change(round, &sent, &returned)) break;
    change_calls.Add(returned - sent);
    // While the change fans out: does a call on a connection that carries
    // streams wait for their events?
    if (const int64_t took = target.CallOnConnection(round); took >= 0) {
      connection_calls.Add(took);
    }
    expected += markers;
    WaitFor([&] { return shared.deliveries.load(std::memory_order_acquire) >= expected; },
            options.delivery_timeout);
    const ThreadStats server_round = ThreadStatsDelta(server_before, ReadThreadStats(server_pid));
    const ThreadStats client_round = ThreadStatsDelta(client_before, ReadThreadStats(getpid()));
    LatencySamples round_latencies;
    int64_t first = 0, last = 0;
    for (const auto& watcher : watchers) {
      const int64_t arrived = watcher->Arrival(round);
      if (arrived == 0) continue;
      round_latencies.Add(arrived - sent);
      result.latencies.Add(arrived - sent);
      if (first == 0 || arrived < first) first = arrived;
      last = std::max(last, arrived);
    }
    int64_t server_ns = 0, client_ns = 0;
    for (const auto& [name, group] : server_round) {
      server_ns += group.cpu_nanos;
      ThreadGroupStats& sum = server_threads[name];
      sum.threads = group.threads;
      sum.cpu_nanos += group.cpu_nanos;
      sum.voluntary_switches += group.voluntary_switches;
      sum.involuntary_switches += group.involuntary_switches;
    }
    for (const auto& [name, group] : client_round) {
      client_ns += group.cpu_nanos;
      ThreadGroupStats& sum = client_threads[name];
      sum.threads = group.threads;
      sum.cpu_nanos += group.cpu_nanos;
      sum.voluntary_switches += group.voluntary_switches;
      sum.involuntary_switches += group.involuntary_switches;
    }
    const int64_t round_missing = markers - static_cast<int64_t>(round_latencies.size());
    missing += round_missing;
    const std::string prefix = absl::StrCat("round", round + 1, "_");
    result.AddExtra(prefix + "p50_ms", round_latencies.PercentileMicros(0.5) / 1000);
    result.AddExtra(prefix + "p99_ms", round_latencies.PercentileMicros(0.99) / 1000);
    result.AddExtra(prefix + "max_ms", round_latencies.MaxMicros() / 1000);
    result.AddExtra(prefix + change_name + "_ms", (returned - sent) / 1e6);
    // From the first stream's event to the last's: the fan-out alone, without
    // the change's own path (the catalog's hub call, etcd's commit).
    result.AddExtra(prefix + "first_to_last_ms", (last - first) / 1e6);
    result.AddExtra(prefix + "missing", round_missing);
    if (first > 0) {
      spreads_ms.push_back((last - first) / 1e6);
      first_ms.push_back((first - sent) / 1e6);
      // The client's CPU time over the time from the change to the last
      // receipt: near 1, its one core was the bottleneck.
      client_busy.push_back(static_cast<double>(client_ns) / static_cast<double>(last - sent));
    }
    server_cpu_ms.push_back(server_ns / 1e6);
    client_cpu_ms.push_back(client_ns / 1e6);
    absl::SleepFor(absl::Milliseconds(500));
  }
  const double measure_seconds = (NowNanos() - measure_start) / 1e9;
  result.server_cpu = CoresBusy(cpu0, ReadCpuSeconds(server_pid), measure_seconds);
  result.AddExtra("deliveries_missing", missing);
  result.AddExtra("delivery_p50_ms", result.latencies.PercentileMicros(0.5) / 1000);
  result.AddExtra("delivery_p99_ms", result.latencies.PercentileMicros(0.99) / 1000);
  result.AddExtra("delivery_max_ms", result.latencies.MaxMicros() / 1000);
  result.AddExtra(absl::StrCat(change_name, "_p50_ms"), change_calls.PercentileMicros(0.5) / 1000);
  if (connection_calls.size() > 0) {
    result.AddExtra("call_on_watch_connection_p50_ms",
                    connection_calls.PercentileMicros(0.5) / 1000);
    result.AddExtra("call_on_watch_connection_max_ms", connection_calls.MaxMicros() / 1000);
  }
  result.AddExtra("first_delivery_median_ms", Median(first_ms));
  result.AddExtra("first_to_last_median_ms", Median(spreads_ms));
  result.AddExtra("first_to_last_max_ms",
                  spreads_ms.empty() ? 0 : *std::max_element(spreads_ms.begin(), spreads_ms.end()));
  result.AddExtra("event_bytes", shared.event_bytes.load(std::memory_order_relaxed));
  result.AddExtra("server_cpu_ms_per_round", Median(server_cpu_ms));
  result.AddExtra("client_cpu_ms_per_round", Median(client_cpu_ms));
  if (markers > 0) {
    result.AddExtra("server_cpu_us_per_delivery", Median(server_cpu_ms) * 1000 / markers);
    result.AddExtra("client_cpu_us_per_delivery", Median(client_cpu_ms) * 1000 / markers);
  }
  result.AddExtra("client_busy_until_last", Median(client_busy));
  const int rounds_done = std::max<int>(1, static_cast<int>(server_cpu_ms.size()));
  result.AddExtraString("server_threads_mean_per_round",
                        DescribeThreads(server_threads, rounds_done));
  result.AddExtraString("client_threads_mean_per_round",
                        DescribeThreads(client_threads, rounds_done));

  // Close every stream; a stream the server ended on its own is counted with
  // its code, a stream that got everything it should have as OK.
  for (const auto& watcher : watchers) watcher->Cancel();
  const bool all_done = WaitFor(
      [&] {
        absl::MutexLock lock(&shared.mu);
        return shared.finished == options.watchers;
      },
      absl::Seconds(60));
  if (!all_done) {
    std::fprintf(stderr, "catalog-bench: %s: streams still open 60s after cancelling\n",
                 result.name.c_str());
    // The watchers must outlive their streams, and a queue with operations
    // pending never drains: leak both rather than crash or hang.
    for (auto& watcher : watchers) watcher.release();
    for (auto& queue : queues) queue.release();
    http2.release();
    return;
  }
  int64_t incomplete = 0;
  for (const auto& watcher : watchers) {
    bool complete = true;
    for (int round = 0; round < options.rounds; ++round) complete &= watcher->Arrival(round) != 0;
    if (!watcher->ended_by_us()) {
      const int code = watcher->code();
      ++result.codes[code >= 0 && code < kStatusCodes ? code : 2];
    } else if (complete) {
      ++result.codes[0];
    } else {
      ++incomplete;
    }
  }
  result.AddExtra("incomplete_streams", incomplete);
  result.AddExtra("rounds_seconds", measure_seconds);
  absl::SleepFor(absl::Milliseconds(100));
}

}  // namespace

ScenarioResult RunWatchScenario(BenchContext& context, const WatchOptions& options,
                                WatchMethod method) {
  ScenarioResult result;
  const bool models = method == WatchMethod::kWatchModels;
  result.name = models ? "watch_models" : "watch";
  result.rpc = models ? "ModelCatalogService/WatchModels" : "ModelCatalogService/WatchDeployments";
  result.connections = options.connections;
  std::fprintf(stderr, "catalog-bench: %s (%d streams over %d connections, %d changes)...\n",
               result.name.c_str(), options.watchers, options.connections, options.rounds);
  if (context.hub == nullptr || context.catalog.custom_ids.empty()) {
    std::fprintf(stderr,
                 "catalog-bench: watch needs --hub_url and a custom model with a "
                 "settled deployment in the catalog\n");
    return result;
  }
  // A custom model from the middle of the catalog.
  const size_t pick = context.catalog.custom_ids.size() / 2;
  const std::string model_id = context.catalog.custom_ids[pick];
  result.AddExtraString("model_id", model_id);
  // Its status now, as the server serves it: an earlier scenario may have
  // changed it since the catalog was first read (an odd number of rounds).
  std::string status = context.catalog.custom_statuses[pick];
  {
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    modelcatalog::v1::GetModelRequest request;
    request.set_id(model_id);
    modelcatalog::v1::GetModelResponse response;
    if (ModelCatalogService::NewStub(context.control)->GetModel(&call, request, &response).ok() &&
        response.model().deployments_size() > 0) {
      status = response.model().deployments(0).status_raw();
    }
  }
  CatalogTarget target(context, method, options.decode_fields, model_id, status);
  MeasureWatch(context.server, context.server_pid, "live_call", target, options, result);
  return result;
}

ScenarioResult RunEtcdWatchScenario(const EtcdWatchOptions& options) {
  ScenarioResult result;
  result.name = "watch_etcd";
  result.rpc = "etcdserverpb.Watch/Watch";
  result.connections = options.watch.connections;
  std::fprintf(stderr,
               "catalog-bench: watch_etcd (%d streams over %d connections, %d changes)...\n",
               options.watch.watchers, options.watch.connections, options.watch.rounds);
  std::unique_ptr<EtcdProcess> started;
  std::string address = options.address;
  int pid = options.pid;
  if (address.empty()) {
    started = EtcdProcess::Start(options.process);
    if (started == nullptr) return result;
    address = started->client_address();
    pid = started->pid();
  }
  result.AddExtraString("etcd", address);
  const std::shared_ptr<grpc::Channel> control = MakeConnection(address, 1 << 20);
  EtcdTarget target(control, options.key, options.value_bytes, options.watch.decode_fields);
  // The first Put also waits for the member to elect itself leader; the
  // watches, created after it, start at the next revision.
  int64_t sent = 0, returned = 0;
  if (!target.Put("created", &sent, &returned)) return result;
  MeasureWatch(address, pid, "put", target, options.watch, result);
  return result;
}

}  // namespace modelcatalog::bench
