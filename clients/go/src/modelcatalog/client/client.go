// Package client connects to model-catalog's ModelCatalogService with the shared gRPC
// service config (clients/service_config.json, embedded by clients/generate.sh), pages
// through ListModels and SearchModels, reads models by id with BatchGetModels, prices a
// call with EstimateCost (exact decimal amounts, as math/big.Rat) and checks a request's
// parameters with ValidateRequest.
//
// grpc-go before 1.40 retries only when the environment has GRPC_GO_RETRY=on; the
// timeouts and round-robin balancing of the service config apply regardless.
package client

import (
	"context"
	_ "embed" // the service config
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"

	pb "modelcatalog/gen/go/modelcatalog/v1"
)

// ServiceConfig is the shared service config: per-method timeouts, retries of reads on
// UNAVAILABLE, round robin over every address of the target.
//
//go:embed service_config.json
var ServiceConfig string

// bearerToken sends "authorization: Bearer <token>" with every call.
type bearerToken string

func (t bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

// RequireTransportSecurity is false so that the token also goes over plaintext channels
// inside the pod network; use TLS beyond it.
func (bearerToken) RequireTransportSecurity() bool { return false }

// BearerToken is a DialOption that sends token with every call (servers run with
// --auth_tokens_file require one).
func BearerToken(token string) grpc.DialOption {
	return grpc.WithPerRPCCredentials(bearerToken(token))
}

// Dial connects to target ("host:port", "dns:///host:port") with ServiceConfig. The
// connection is plaintext unless secure is true, in which case opts must carry transport
// credentials (grpc.WithTransportCredentials).
func Dial(ctx context.Context, target string, secure bool, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	base := []grpc.DialOption{grpc.WithDefaultServiceConfig(ServiceConfig)}
	if !secure {
		base = append(base, grpc.WithInsecure())
	}
	return grpc.DialContext(ctx, target, append(base, opts...)...)
}

// WaitForServing polls the standard health service until it answers SERVING (the server
// is NOT_SERVING until its first catalog loads) or ctx ends.
func WaitForServing(ctx context.Context, conn *grpc.ClientConn) error {
	health := healthpb.NewHealthClient(conn)
	for {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// EachModel calls fn with every model ListModels returns for req, over all pages, in
// req's order (OrderBy; ascending id by default); it stops at the first error. Every page
// is asked for with a copy of req (DeveloperName, Action, Filter, OrderBy, View, PageSize,
// and any field added later) and the previous page's token: a token is valid only for the
// query that produced it. req itself is not modified.
func EachModel(ctx context.Context, c pb.ModelCatalogServiceClient, req *pb.ListModelsRequest,
	fn func(*pb.Model) error) error {
	page := &pb.ListModelsRequest{}
	if req != nil {
		page = proto.Clone(req).(*pb.ListModelsRequest)
	}
	for {
		resp, err := c.ListModels(ctx, page)
		if err != nil {
			return err
		}
		for _, m := range resp.GetModels() {
			if err := fn(m); err != nil {
				return err
			}
		}
		if resp.GetNextPageToken() == "" {
			return nil
		}
		page.PageToken = resp.GetNextPageToken()
	}
}

// EachSearchResult calls fn with every model SearchModels ranks for query, best first,
// over all pages; it stops at the first error.
func EachSearchResult(ctx context.Context, c pb.ModelCatalogServiceClient, query string,
	fn func(*pb.Model) error) error {
	return EachSearchResultOf(ctx, c, &pb.SearchModelsRequest{Query: query}, fn)
}

// EachSearchResultOf is EachSearchResult for a whole request: every page is asked for
// with a copy of req (Query, Filter, View, PageSize, and any field added later) and the
// previous page's token. req itself is not modified.
func EachSearchResultOf(ctx context.Context, c pb.ModelCatalogServiceClient, req *pb.SearchModelsRequest,
	fn func(*pb.Model) error) error {
	page := &pb.SearchModelsRequest{}
	if req != nil {
		page = proto.Clone(req).(*pb.SearchModelsRequest)
	}
	for {
		resp, err := c.SearchModels(ctx, page)
		if err != nil {
			return err
		}
		for _, m := range resp.GetModels() {
			if err := fn(m); err != nil {
				return err
			}
		}
		if resp.GetNextPageToken() == "" {
			return nil
		}
		page.PageToken = resp.GetNextPageToken()
	}
}

// BatchGetModels returns the models with these ids (1 to 1,000; an id may come twice) in
// the order asked, in view (MODEL_VIEW_UNSPECIFIED: FULL), from one BatchGetModels call and
// so from one catalog snapshot. All or nothing: an id the catalog does not have fails the
// call with NOT_FOUND "Model not found: <id>"; no ids or more than 1,000 with
// INVALID_ARGUMENT.
func BatchGetModels(ctx context.Context, c pb.ModelCatalogServiceClient, ids []string, view pb.ModelView,
	opts ...grpc.CallOption) ([]*pb.Model, error) {
	resp, err := c.BatchGetModels(ctx, &pb.BatchGetModelsRequest{Ids: ids, View: view}, opts...)
	if err != nil {
		return nil, err
	}
	return resp.GetModels(), nil
}

// EstimateCost returns the estimate of each model (in the order asked) for one call with
// usage, from one EstimateCost call. A model the usage cannot be priced on fails the call
// with FAILED_PRECONDITION naming the missing price; a negative quantity with
// INVALID_ARGUMENT naming the field; an unknown id with NOT_FOUND.
func EstimateCost(ctx context.Context, c pb.ModelCatalogServiceClient, ids []string, usage *pb.Usage,
	opts ...grpc.CallOption) ([]*pb.CostEstimate, error) {
	resp, err := c.EstimateCost(ctx, &pb.EstimateCostRequest{ModelIds: ids, Usage: usage}, opts...)
	if err != nil {
		return nil, err
	}
	return resp.GetEstimates(), nil
}

// EachCheapest calls fn with the estimate of every model matching filter that usage can be
// priced on, cheapest first (ties by id), over all pages of pageSize (0: the server's
// default); it stops at the first error. Models that cannot be priced are left out.
func EachCheapest(ctx context.Context, c pb.ModelCatalogServiceClient, filter string, usage *pb.Usage,
	pageSize int32, fn func(*pb.CostEstimate) error, opts ...grpc.CallOption) error {
	token := ""
	for {
		resp, err := c.EstimateCost(ctx, &pb.EstimateCostRequest{
			Filter: filter, Usage: usage, PageSize: pageSize, PageToken: token}, opts...)
		if err != nil {
			return err
		}
		for _, e := range resp.GetEstimates() {
			if err := fn(e); err != nil {
				return err
			}
		}
		token = resp.GetNextPageToken()
		if token == "" {
			return nil
		}
	}
}

// Amount reads an amount of an estimate ("6", "0.000003") exactly, as a big.Rat: never
// through a float64, which would turn 0.65 into 0.6499999999999999 in sums.
func Amount(text string) (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return nil, fmt.Errorf("not a decimal amount: %q", text)
	}
	return r, nil
}

// ValidateRequest checks parameters (marshalled to JSON, so integers stay integers)
// against the model's request_schema. The answer says whether they are valid and lists
// each violation with its JSON Pointer, keyword and message; a model without a schema is
// valid, with a note.
func ValidateRequest(ctx context.Context, c pb.ModelCatalogServiceClient, modelID string, parameters any,
	opts ...grpc.CallOption) (*pb.ValidateRequestResponse, error) {
	text, err := json.Marshal(parameters)
	if err != nil {
		return nil, err
	}
	return c.ValidateRequest(ctx, &pb.ValidateRequestRequest{ModelId: modelID, ParametersJson: string(text)}, opts...)
}
