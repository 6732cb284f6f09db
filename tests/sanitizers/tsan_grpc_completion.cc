// ThreadSanitizer builds only (MODEL_CATALOG_SANITIZE=thread): tells TSan that a gRPC batch
// completes after it was started.
//
// gRPC's C++ API (its header code, instantiated in this project's binaries) starts a batch of
// operations with grpc_call_start_batch(call, ops, n, tag) in one thread, and the completion
// queue hands `tag` back, usually in another thread, whose code then reads what the starting
// thread wrote: the CallOpSet, the callback's std::function, the project's reactor. Inside the
// uninstrumented libgrpc.so that hand-over is invisible to TSan. Here, starting a batch (or
// requesting a call) releases `tag`, and a completion queue returning an event acquires its
// tag: the happens-before edge gRPC guarantees, no more.
//
// Like tsan_absl_sync.cc, these definitions come first in the dynamic symbol lookup (libgrpc++
// calls libgrpc's C API through the PLT) and call the originals.
#include <grpc/grpc.h>
#include <sanitizer/tsan_interface.h>

#include "tests/sanitizers/tsan_original.h"

namespace {

using ::modelcatalog::tsan::Original;

// At load time: each definition here must be the one in use, or it annotates nothing.
__attribute__((constructor)) void CheckLinkOrder() {
  for (const char* name :
       {"grpc_call_start_batch", "grpc_server_request_call", "grpc_server_request_registered_call",
        "grpc_completion_queue_next", "grpc_completion_queue_pluck"}) {
    modelcatalog::tsan::CheckFirst(name);
  }
}

}  // namespace

extern "C" {

grpc_call_error grpc_call_start_batch(grpc_call* call, const grpc_op* ops, size_t nops, void* tag,
                                      void* reserved) {
  static const auto original =
      Original<grpc_call_error (*)(grpc_call*, const grpc_op*, size_t, void*, void*)>(
          "grpc_call_start_batch");
  __tsan_release(tag);
  return original(call, ops, nops, tag, reserved);
}

grpc_call_error grpc_server_request_call(grpc_server* server, grpc_call** call,
                                         grpc_call_details* details,
                                         grpc_metadata_array* request_metadata,
                                         grpc_completion_queue* cq_bound_to_call,
                                         grpc_completion_queue* cq_for_notification,
                                         void* tag_new) {
  static const auto original = Original<grpc_call_error (*)(
      grpc_server*, grpc_call**, grpc_call_details*, grpc_metadata_array*, grpc_completion_queue*,
      grpc_completion_queue*, void*)>("grpc_server_request_call");
  __tsan_release(tag_new);
  return original(server, call, details, request_metadata, cq_bound_to_call, cq_for_notification,
                  tag_new);
}

grpc_call_error grpc_server_request_registered_call(grpc_server* server, void* registered_method,
                                                    grpc_call** call, gpr_timespec* deadline,
                                                    grpc_metadata_array* request_metadata,
                                                    grpc_byte_buffer** optional_payload,
                                                    grpc_completion_queue* cq_bound_to_call,
                                                    grpc_completion_queue* cq_for_notification,
                                                    void* tag_new) {
  static const auto original = Original<grpc_call_error (*)(
      grpc_server*, void*, grpc_call**, gpr_timespec*, grpc_metadata_array*, grpc_byte_buffer**,
      grpc_completion_queue*, grpc_completion_queue*, void*)>(
      "grpc_server_request_registered_call");
  __tsan_release(tag_new);
  return original(server, registered_method, call, deadline, request_metadata, optional_payload,
                  cq_bound_to_call, cq_for_notification, tag_new);
}

grpc_event grpc_completion_queue_next(grpc_completion_queue* cq, gpr_timespec deadline,
                                      void* reserved) {
  static const auto original =
      Original<grpc_event (*)(grpc_completion_queue*, gpr_timespec, void*)>(
          "grpc_completion_queue_next");
  grpc_event event = original(cq, deadline, reserved);
  if (event.type == GRPC_OP_COMPLETE) __tsan_acquire(event.tag);
  return event;
}

grpc_event grpc_completion_queue_pluck(grpc_completion_queue* cq, void* tag, gpr_timespec deadline,
                                       void* reserved) {
  static const auto original =
      Original<grpc_event (*)(grpc_completion_queue*, void*, gpr_timespec, void*)>(
          "grpc_completion_queue_pluck");
  grpc_event event = original(cq, tag, deadline, reserved);
  if (event.type == GRPC_OP_COMPLETE) __tsan_acquire(event.tag);
  return event;
}

}  // extern "C"
