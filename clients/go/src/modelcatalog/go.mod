// The Go client of model-catalog as a module. Its path is "modelcatalog", the import path the
// protos' go_package names (modelcatalog/gen/go/modelcatalog/v1), so the same sources build as
// a module and in the GOPATH tree above. A program requires it with a replace to a local copy:
//
//	require modelcatalog v0.0.0
//	replace modelcatalog => /path/to/model-catalog/clients/go/src/modelcatalog
//
// after clients/generate.sh go (the stubs are generated, not committed). Offline against
// Debian's Go sources: clients/go/debian-modules.sh adds the replaces for them.
module modelcatalog

go 1.19

// The oldest versions the client is tested with: Debian bookworm's.
require (
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
