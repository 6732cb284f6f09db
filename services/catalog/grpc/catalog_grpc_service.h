// ModelCatalogService on gRPC's completion-queue API (serving_queues.h says why
// not the callback API). The transport only: each unary method checks the
// caller (CallerAuth), parses the request, forwards it to CatalogServiceImpl
// or LiveOperations, writes what they answer and counts the call; the request
// logic lives there. WatchDeployments and WatchModels write a WatchStream of
// the feed to the wire. What it holds is per call (the calls in flight) and the wiring below.
//
// ListModels, SearchModels and GetModel are the hot paths. They are "raw"
// methods: the response is written as bytes from each model's serialization
// stored in the snapshot, rather than by copying models into a message that
// gRPC then serializes again. A model's request_schema (a Struct) makes up
// most of that cost, and it is paid once per sync instead of once per call.
// The watch methods are raw too: a change fanned out to thousands of streams
// is serialized once and every stream writes the same bytes.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_GRPC_CATALOG_GRPC_SERVICE_H_
#define MODEL_CATALOG_SERVICES_CATALOG_GRPC_CATALOG_GRPC_SERVICE_H_

#include "grpcpp/support/byte_buffer.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"
#include "services/catalog/api/caller_auth.h"
#include "services/catalog/api/catalog_metrics.h"
#include "services/catalog/api/catalog_service_impl.h"
#include "services/catalog/grpc/connection_sockets.h"
#include "services/catalog/grpc/serving_queues.h"
#include "services/catalog/grpc/stream_call.h"
#include "services/catalog/grpc/unary_call.h"
#include "services/catalog/sync/live_operations.h"
#include "services/catalog/watch/change_feed.h"
#include "services/catalog/watch/watch_sink.h"
#include "services/catalog/watch/watch_stream.h"

namespace modelcatalog::catalog {

class CatalogGrpcService {
 public:
  // `auth` may be null: every caller is let in. `metrics` may be null. The
  // feed's shards are the stream queues of the ServingQueues given to Serve.
  // `sockets`, when not null, finds each watch stream's connection: the
  // connection's streams then share a feed shard, and its writes of a fan-out
  // leave together (connection_sockets.h).
  CatalogGrpcService(const CatalogServiceImpl* impl, LiveOperations* live, ChangeFeed* feed,
                     const CallerAuth* auth, CatalogMetrics* metrics,
                     ConnectionSockets* sockets = nullptr);

  // What to register with the grpc::ServerBuilder.
  grpc::Service* service() { return &service_; }

  // Keeps `backlog` calls of every method requested on every call queue of
  // `queues`, from now until the queues close. After the server is built.
  void Serve(ServingQueues* queues, int backlog);

 private:
  using Service = modelcatalog::v1::ModelCatalogService;
  using AsyncService = Service::WithRawMethod_ListModels<Service::WithRawMethod_SearchModels<
      Service::WithRawMethod_GetModel<Service::WithRawMethod_BatchGetModels<
          Service::WithRawMethod_WatchDeployments<Service::WithRawMethod_WatchModels<
              Service::WithAsyncMethod_GetSyncStatus<Service::WithAsyncMethod_ActivateModel<
                  Service::WithAsyncMethod_DeactivateModel<Service::WithAsyncMethod_EstimateCost<
                      Service::WithAsyncMethod_ValidateRequest<Service::Service>>>>>>>>>>>;
  using RawMethod = UnaryMethod<grpc::ByteBuffer, grpc::ByteBuffer>;
  using RawCall = RawMethod::Call;
  class WatchCall;
  // A server-streaming watch method: how its calls are requested and counted,
  // and how a request becomes the stream's projection (it returns the
  // request's resume token, or why the request is refused).
  struct WatchMethod {
    StreamCall<grpc::ByteBuffer, grpc::ByteBuffer>::Requester requester;
    Rpc rpc = Rpc::kWatchDeployments;
    std::function<absl::StatusOr<std::string>(const grpc::ByteBuffer& request, WatchStream* stream)>
        open;
  };

  absl::Status Authorize(const grpc::ServerContext* context, Access need) const;
  // Sets up `method`: requested with `request` (the service's generated
  // Request<Method>), answered by `handle`, each call counted as `rpc` as it ends.
  template <typename Method, typename Request, typename Handle>
  void Bind(Method* method, Request request, Rpc rpc, Handle handle);

  void ListModels(RawCall* call);
  void SearchModels(RawCall* call);
  void GetModel(RawCall* call);
  void BatchGetModels(RawCall* call);
  void GetSyncStatus(UnaryMethod<modelcatalog::v1::GetSyncStatusRequest,
                                 modelcatalog::v1::GetSyncStatusResponse>::Call* call);
  template <typename Call>
  void SwitchDeployment(bool activate, Call* call);
  void EstimateCost(UnaryMethod<modelcatalog::v1::EstimateCostRequest,
                                modelcatalog::v1::EstimateCostResponse>::Call* call);
  void ValidateRequest(UnaryMethod<modelcatalog::v1::ValidateRequestRequest,
                                   modelcatalog::v1::ValidateRequestResponse>::Call* call);

  const CatalogServiceImpl* const impl_;
  LiveOperations* const live_;
  ChangeFeed* const feed_;
  const CallerAuth* const auth_;
  CatalogMetrics* const metrics_;
  ConnectionSockets* const sockets_;
  AsyncService service_;

  RawMethod list_models_;
  RawMethod search_models_;
  RawMethod get_model_;
  RawMethod batch_get_models_;
  UnaryMethod<modelcatalog::v1::GetSyncStatusRequest, modelcatalog::v1::GetSyncStatusResponse>
      get_sync_status_;
  UnaryMethod<modelcatalog::v1::ActivateModelRequest, modelcatalog::v1::ActivateModelResponse>
      activate_model_;
  UnaryMethod<modelcatalog::v1::DeactivateModelRequest, modelcatalog::v1::DeactivateModelResponse>
      deactivate_model_;
  UnaryMethod<modelcatalog::v1::EstimateCostRequest, modelcatalog::v1::EstimateCostResponse>
      estimate_cost_;
  UnaryMethod<modelcatalog::v1::ValidateRequestRequest, modelcatalog::v1::ValidateRequestResponse>
      validate_request_;
  WatchMethod watch_deployments_;
  WatchMethod watch_models_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_GRPC_CATALOG_GRPC_SERVICE_H_
