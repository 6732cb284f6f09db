// Command cheapest-image-models prints the three cheapest image models: one ListModels call
// that filters, orders and pages.
//
//	clients/generate.sh go
//	cd clients/go && GO111MODULE=off GOPATH=$PWD:/usr/share/gocode go run modelcatalog/examples/cheapest-image-models \
//	    -server=localhost:50051
//
// Prints one line per model (id, price per image, display name), cheapest first, ties in id
// order, and on stderr how many image models the catalog has.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"modelcatalog/client"
	pb "modelcatalog/gen/go/modelcatalog/v1"
)

const (
	// imageModels selects the models that produce images, whatever their pricing method;
	// models without a price per image come last in byPrice order.
	imageModels = "capabilities.output:image"
	byPrice     = "pricing.cost_per_image"
)

// cheapestImageModels returns the first page of the image models in price order: count
// models in BASIC view (no description or request schema), and TotalSize image models.
func cheapestImageModels(ctx context.Context, catalog pb.ModelCatalogServiceClient, count int32) (*pb.ListModelsResponse, error) {
	return catalog.ListModels(ctx, &pb.ListModelsRequest{
		Filter:   imageModels,
		OrderBy:  byPrice,
		PageSize: count,
		View:     pb.ModelView_MODEL_VIEW_BASIC,
	})
}

func main() {
	server := flag.String("server", "localhost:50051", "host:port of catalog-server")
	count := flag.Int("count", 3, "how many models")
	wait := flag.Duration("wait", 30*time.Second, "how long to wait for the server to serve")
	tokenFile := flag.String("token_file", "", "file holding a bearer token for the server")
	flag.Parse()

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

	resp, err := cheapestImageModels(context.Background(), pb.NewModelCatalogServiceClient(conn), int32(*count))
	if err != nil {
		s := status.Convert(err)
		fmt.Fprintf(os.Stderr, "error: %s: %s\n", s.Code(), s.Message())
		os.Exit(1)
	}
	for _, m := range resp.GetModels() {
		price := "-"
		if p := m.GetPricing(); p != nil && p.CostPerImage != nil {
			price = strconv.FormatFloat(p.GetCostPerImage(), 'g', -1, 64)
		}
		fmt.Printf("%-45s %-8s %s\n", m.GetId(), price, m.GetDisplayName())
	}
	fmt.Fprintf(os.Stderr, "%d of %d image models\n", len(resp.GetModels()), resp.GetTotalSize())
}
