#include "benchmarks/load/bench_context.h"

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace modelcatalog::bench {

std::shared_ptr<grpc::Channel> MakeConnection(const std::string& server, int index) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("modelcatalog.bench.connection", index);
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args);
}

bool Connect(const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout) {
  return channel->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout));
}

}  // namespace modelcatalog::bench
