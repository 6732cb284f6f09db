// Command watch-models watches the catalog's models, keeping what it holds in a file across
// runs.
//
//	clients/generate.sh go
//	cd clients/go && GO111MODULE=off GOPATH=$PWD:/usr/share/gocode go run modelcatalog/examples/watch-models \
//	    -server=localhost:50051 -filter=capabilities.output:image -versions=held.json
//
// Prints one line per event that changes what it holds ("INITIAL id version", "ADDED id
// version", "CHANGED id version path...", "REMOVED id"), and on stderr, at each marker, how
// many models it holds. -versions names a JSON file {model id: model_version}: read at the
// start (the server then sends only what differs from it), written at each marker and each
// change after it, so a second run that finds nothing changed prints nothing on stdout.
// -until_current stops at the first marker. Ctrl-C stops.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"google.golang.org/grpc/status"

	"modelcatalog/client"
	pb "modelcatalog/gen/go/modelcatalog/v1"
)

func loadVersions(path string) (map[string]string, error) {
	versions := map[string]string{}
	if path == "" {
		return versions, nil
	}
	text, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return versions, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(text, &versions); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return versions, nil
}

func saveVersions(path string, versions map[string]string) error {
	if path == "" {
		return nil
	}
	text, err := json.Marshal(versions)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path+".tmp", text, 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

func eventLine(e *pb.WatchModelsResponse) string {
	name := strings.TrimPrefix(e.GetType().String(), "WATCH_EVENT_TYPE_")
	if e.GetType() == pb.WatchEventType_WATCH_EVENT_TYPE_REMOVED {
		return name + " " + e.GetModelId()
	}
	return strings.Join(append([]string{name, e.GetModelId(), e.GetModelVersion()},
		e.GetChangedFields().GetPaths()...), " ")
}

// errCurrent ends the watch at the first marker (-until_current).
var errCurrent = errors.New("current")

func main() {
	server := flag.String("server", "localhost:50051", "host:port of catalog-server")
	filter := flag.String("filter", "", "only models matching this expression")
	versionsFile := flag.String("versions", "", "JSON file of the versions held, read and written")
	untilCurrent := flag.Bool("until_current", false, "stop at the first marker")
	flag.Parse()

	held, err := loadVersions(*versionsFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	conn, err := client.Dial(ctx, *server, false)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
	defer conn.Close()

	watch := client.NewModelWatch(pb.NewModelCatalogServiceClient(conn),
		&pb.WatchModelsRequest{Filter: *filter, KnownVersions: held})
	current := false // past the first marker: each change is saved as it comes
	err = watch.Run(ctx, func(e *pb.WatchModelsResponse) error {
		switch e.GetType() {
		case pb.WatchEventType_WATCH_EVENT_TYPE_PROGRESS:
			return nil
		case pb.WatchEventType_WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE:
			current = true
			resync := ""
			if e.GetResync() {
				resync = " (resync)"
			}
			fmt.Fprintf(os.Stderr, "%d models held%s\n", len(watch.KnownVersions()), resync)
		default:
			fmt.Println(eventLine(e))
		}
		if !current {
			return nil
		}
		if err := saveVersions(*versionsFile, watch.KnownVersions()); err != nil {
			return err
		}
		if *untilCurrent {
			return errCurrent
		}
		return nil
	})
	if err != nil && err != errCurrent && err != context.Canceled {
		if s, ok := status.FromError(err); ok {
			fmt.Fprintf(os.Stderr, "error: %s: %s\n", s.Code(), s.Message())
		} else {
			fmt.Fprintf(os.Stderr, "error: %v\n", err)
		}
		os.Exit(1)
	}
}
