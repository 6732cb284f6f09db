// Command list-models lists the catalog's models, every page, optionally filtered.
//
//	clients/generate.sh go
//	cd clients/go && GO111MODULE=off GOPATH=$PWD:/usr/share/gocode go run modelcatalog/examples/list-models \
//	    -server=localhost:50051 -developer_name=anthropic
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"modelcatalog/client"
	pb "modelcatalog/gen/go/modelcatalog/v1"
)

func main() {
	server := flag.String("server", "localhost:50051", "host:port of catalog-server")
	developer := flag.String("developer_name", "", "only this developer's models")
	action := flag.String("action", "", "only models fine-tunable with this action")
	search := flag.String("search", "", "search instead of listing")
	wait := flag.Duration("wait", 30*time.Second, "how long to wait for the server to serve")
	tokenFile := flag.String("token_file", "", "file holding a bearer token for the server")
	version := flag.Bool("version", false, "print the client's version and exit")
	flag.Parse()
	if *version {
		fmt.Println("list-models", client.Version)
		return
	}

	var opts []grpc.DialOption
	if *tokenFile != "" {
		token, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "error: %v\n", err)
			os.Exit(2)
		}
		opts = append(opts, client.BearerToken(strings.TrimSpace(string(token))))
	}
	ctx, cancel := context.WithTimeout(context.Background(), *wait)
	defer cancel()
	conn, err := client.Dial(ctx, *server, false, opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
	defer conn.Close()
	if err := client.WaitForServing(ctx, conn); err != nil {
		fmt.Fprintf(os.Stderr, "error: %s not serving: %v\n", *server, err)
		os.Exit(1)
	}

	catalog := pb.NewModelCatalogServiceClient(conn)
	count := 0
	print := func(m *pb.Model) error {
		state := "-"
		if len(m.GetDeployments()) > 0 {
			state = m.GetDeployments()[0].GetStatusRaw()
		}
		fmt.Printf("%-45s %-32s %-7s %s\n", m.GetId(), m.GetDisplayName(), m.GetModelTypeRaw(), state)
		count++
		return nil
	}
	if *search != "" {
		err = client.EachSearchResult(context.Background(), catalog, *search, print)
	} else {
		err = client.EachModel(context.Background(), catalog,
			&pb.ListModelsRequest{DeveloperName: *developer, Action: *action}, print)
	}
	if err != nil {
		s := status.Convert(err)
		fmt.Fprintf(os.Stderr, "error: %s: %s\n", s.Code(), s.Message())
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%d models\n", count)
}
