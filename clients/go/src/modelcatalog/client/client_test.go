// Tests of package client against real servers: starts build/bin/hub-emulator (the bundled
// sample catalog) and build/bin/catalog-server on free ports. MODEL_CATALOG_BIN_DIR names the
// folder of the binaries (default: the repository's build/bin).
//
//	cd clients/go && GO111MODULE=off GOPATH=$PWD:/usr/share/gocode go test -count=1 modelcatalog/client
package client_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"modelcatalog/client"
	pb "modelcatalog/gen/go/modelcatalog/v1"
)

// The image models of the hub emulator's sample catalog, and their order by price.
const (
	imageModels = "capabilities.output:image"
	byPrice     = "pricing.cost_per_image"
)

var catalog pb.ModelCatalogServiceClient

// process is a server binary that prints "<name> listening on <address>" once bound.
type process struct {
	cmd     *exec.Cmd
	stderr  bytes.Buffer
	address string
}

func start(binary string, args ...string) (*process, error) {
	p := &process{cmd: exec.Command(binary, args...)}
	// Free ports for the metrics and JSON listeners, not the defaults every server would share.
	p.cmd.Env = append(os.Environ(), "MODEL_CATALOG_METRICS_LISTEN=127.0.0.1:0",
		"MODEL_CATALOG_HTTP_LISTEN=127.0.0.1:0")
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	lines := bufio.NewReader(stdout)
	line, err := lines.ReadString('\n')
	if !strings.Contains(line, " listening on ") {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		return nil, fmt.Errorf("%s did not start: %q %v %s", binary, line, err, p.stderr.String())
	}
	go io.Copy(io.Discard, lines) // the lines that follow
	p.address = strings.TrimSpace(strings.SplitN(line, " listening on ", 2)[1])
	return p, nil
}

func (p *process) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	return p.cmd.Wait()
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	binDir := os.Getenv("MODEL_CATALOG_BIN_DIR")
	if binDir == "" {
		// go test runs in the package's folder: clients/go/src/modelcatalog/client.
		binDir = filepath.Join("..", "..", "..", "..", "..", "build", "bin")
	}
	hub, err := start(filepath.Join(binDir, "hub-emulator"), "--listen=127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer hub.stop()
	server, err := start(filepath.Join(binDir, "catalog-server"), "--listen=127.0.0.1:0",
		"--hub_url="+hub.address+"/api/ai", "--sync_interval=1h", "--shutdown_grace=1s")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer server.stop()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, server.address, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer conn.Close()
	if err := client.WaitForServing(ctx, conn); err != nil {
		fmt.Fprintf(os.Stderr, "catalog-server not serving: %v\n", err)
		return 1
	}
	catalog = pb.NewModelCatalogServiceClient(conn)
	return m.Run()
}

func context10s(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// collect returns every model EachModel yields for req.
func collect(t *testing.T, req *pb.ListModelsRequest) []*pb.Model {
	t.Helper()
	var models []*pb.Model
	err := client.EachModel(context10s(t), catalog, req, func(m *pb.Model) error {
		models = append(models, m)
		return nil
	})
	if err != nil {
		t.Fatalf("EachModel(%v): %v", req, err)
	}
	return models
}

func ids(models []*pb.Model) []string {
	out := make([]string, len(models))
	for i, m := range models {
		out[i] = m.GetId()
	}
	return out
}

func hasImageOutput(m *pb.Model) bool {
	for _, o := range m.GetCapabilities().GetOutput() {
		if o == "image" {
			return true
		}
	}
	return false
}

func isBasic(m *pb.Model) bool { return m.Description == nil && m.RequestSchema == nil }

// fullListing is every model in FULL view, from an unfiltered listing.
func fullListing(t *testing.T) []*pb.Model {
	t.Helper()
	models := collect(t, &pb.ListModelsRequest{PageSize: 1000, View: pb.ModelView_MODEL_VIEW_FULL})
	if len(models) < 10 || !sort.StringsAreSorted(ids(models)) {
		t.Fatalf("full listing: %v", ids(models))
	}
	return models
}

// imageModelsByPrice is the image models in FULL view, cheapest first (models without a
// price per image after every model with one), ties in id order, computed here from a full
// listing.
func imageModelsByPrice(t *testing.T) []*pb.Model {
	t.Helper()
	var images []*pb.Model
	for _, m := range fullListing(t) {
		if hasImageOutput(m) {
			images = append(images, m)
		}
	}
	sort.SliceStable(images, func(i, j int) bool {
		a, b := images[i].GetPricing().CostPerImage, images[j].GetPricing().CostPerImage
		switch {
		case a != nil && b != nil && *a != *b:
			return *a < *b
		case (a == nil) != (b == nil):
			return a != nil
		}
		return images[i].GetId() < images[j].GetId()
	})
	return images
}

func equalModels(t *testing.T, what string, got, want []*pb.Model) {
	t.Helper()
	if strings.Join(ids(got), " ") != strings.Join(ids(want), " ") {
		t.Fatalf("%s: ids %v, want %v", what, ids(got), ids(want))
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("%s: model %d differs:\n got %v\nwant %v", what, i, got[i], want[i])
		}
	}
}

func wantCode(t *testing.T, what string, err error, code codes.Code, prefix string) {
	t.Helper()
	s := status.Convert(err)
	if err == nil || s.Code() != code || !strings.HasPrefix(s.Message(), prefix) {
		t.Errorf("%s: %v, want %s %q...", what, err, code, prefix)
	}
}

// The example of the README and examples/cheapest-image-models.
func TestTheThreeCheapestImageModels(t *testing.T) {
	expected := imageModelsByPrice(t)
	if len(expected) <= 3 {
		t.Fatalf("only %d image models: %v", len(expected), ids(expected))
	}
	// The BASIC view below has something to leave out.
	var withDescription, withSchema bool
	for _, m := range expected[:3] {
		withDescription = withDescription || m.Description != nil
		withSchema = withSchema || m.RequestSchema != nil
	}
	if !withDescription || !withSchema {
		t.Fatalf("no description or request schema among %v", ids(expected[:3]))
	}
	resp, err := catalog.ListModels(context10s(t), &pb.ListModelsRequest{
		Filter: imageModels, OrderBy: byPrice, PageSize: 3, View: pb.ModelView_MODEL_VIEW_BASIC})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(resp.GetModels()), ids(expected[:3]); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ids %v, want %v", got, want)
	}
	if int(resp.GetTotalSize()) != len(expected) {
		t.Errorf("total_size %d, want %d", resp.GetTotalSize(), len(expected))
	}
	if resp.GetNextPageToken() == "" {
		t.Error("no next_page_token")
	}
	for i, m := range resp.GetModels() {
		if !isBasic(m) {
			t.Errorf("%s: not BASIC: description %v, request_schema %v", m.GetId(), m.Description, m.RequestSchema)
		}
		if i < len(expected) && !proto.Equal(m.GetPricing(), expected[i].GetPricing()) {
			t.Errorf("%s: pricing %v, want %v", m.GetId(), m.GetPricing(), expected[i].GetPricing())
		}
	}
}

func TestEachModelSendsFilterOrderAndViewWithEveryPage(t *testing.T) {
	expected := imageModelsByPrice(t)
	req := &pb.ListModelsRequest{Filter: imageModels, OrderBy: byPrice, View: pb.ModelView_MODEL_VIEW_FULL, PageSize: 2}
	equalModels(t, "EachModel", collect(t, req), expected) // FULL: every field, description included
	if req.GetPageToken() != "" {
		t.Errorf("EachModel changed its request: %v", req)
	}
	// nil is every model in BASIC view.
	basic := collect(t, nil)
	if len(basic) < len(expected) || !isBasic(basic[0]) {
		t.Errorf("EachModel(nil): %d models, first %v", len(basic), basic[0])
	}
}

func TestEachSearchResultOfSendsFilterAndViewWithEveryPage(t *testing.T) {
	search := func(req *pb.SearchModelsRequest) []*pb.Model {
		t.Helper()
		var models []*pb.Model
		if err := client.EachSearchResultOf(context10s(t), catalog, req, func(m *pb.Model) error {
			models = append(models, m)
			return nil
		}); err != nil {
			t.Fatalf("EachSearchResultOf(%v): %v", req, err)
		}
		return models
	}
	ranked := search(&pb.SearchModelsRequest{Query: "a", PageSize: 1000, View: pb.ModelView_MODEL_VIEW_FULL})
	var expected []*pb.Model
	described := false
	for _, m := range ranked {
		if hasImageOutput(m) {
			expected = append(expected, m)
			described = described || m.Description != nil
		}
	}
	if len(expected) <= 2 || len(expected) == len(ranked) || !described {
		t.Fatalf("search for a: %v, image models %v", ids(ranked), ids(expected))
	}
	equalModels(t, "EachSearchResultOf FULL", // relevance order, FULL view
		search(&pb.SearchModelsRequest{Query: "a", Filter: imageModels, View: pb.ModelView_MODEL_VIEW_FULL, PageSize: 1}),
		expected)
	basic := search(&pb.SearchModelsRequest{Query: "a", Filter: imageModels, PageSize: 1})
	if strings.Join(ids(basic), " ") != strings.Join(ids(expected), " ") {
		t.Errorf("EachSearchResultOf BASIC: %v, want %v", ids(basic), ids(expected))
	}
	for _, m := range basic {
		if !isBasic(m) {
			t.Errorf("%s: not BASIC", m.GetId())
		}
	}
	// EachSearchResult is the query alone.
	var all []string
	if err := client.EachSearchResult(context10s(t), catalog, "a", func(m *pb.Model) error {
		all = append(all, m.GetId())
		return nil
	}); err != nil || strings.Join(all, " ") != strings.Join(ids(ranked), " ") {
		t.Errorf("EachSearchResult: %v %v, want %v", all, err, ids(ranked))
	}
}

func TestBatchGetModelsKeepsTheOrderAsked(t *testing.T) {
	full := map[string]*pb.Model{}
	for _, m := range fullListing(t) {
		full[m.GetId()] = m
	}
	asked := []string{"qwen-image-max", "flux-2-dev", "acme-support-bot", "qwen-image-max"}
	var expected []*pb.Model
	for _, id := range asked {
		expected = append(expected, full[id])
	}
	models, err := client.BatchGetModels(context10s(t), catalog, asked, pb.ModelView_MODEL_VIEW_UNSPECIFIED)
	if err != nil {
		t.Fatal(err)
	}
	equalModels(t, "BatchGetModels", models, expected) // FULL by default
	if models[1].Description == nil {
		t.Errorf("%s: no description in FULL view", models[1].GetId())
	}
	basic, err := client.BatchGetModels(context10s(t), catalog, asked, pb.ModelView_MODEL_VIEW_BASIC, grpc.WaitForReady(true))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids(basic), " ") != strings.Join(asked, " ") {
		t.Errorf("BatchGetModels BASIC: %v, want %v", ids(basic), asked)
	}
	for _, m := range basic {
		if !isBasic(m) {
			t.Errorf("%s: not BASIC", m.GetId())
		}
	}
}

func TestBatchGetModelsIsAllOrNothing(t *testing.T) {
	models, err := client.BatchGetModels(context10s(t), catalog,
		[]string{"flux-2-dev", "no-such-model", "nor-this-one"}, pb.ModelView_MODEL_VIEW_UNSPECIFIED)
	if models != nil || status.Convert(err).Message() != "Model not found: no-such-model" {
		t.Errorf("models %v, error %v: want none and \"Model not found: no-such-model\"", ids(models), err)
	}
	wantCode(t, "missing id", err, codes.NotFound, "Model not found: no-such-model")
	_, err = client.BatchGetModels(context10s(t), catalog, nil, pb.ModelView_MODEL_VIEW_UNSPECIFIED)
	wantCode(t, "no ids", err, codes.InvalidArgument, "")
}

func TestEstimateCostIsExactAndNamesWhatItRefuses(t *testing.T) {
	estimates, err := client.EstimateCost(context10s(t), catalog, []string{"claude-sonnet-4-6", "gpt-5-mini"},
		&pb.Usage{InputTokens: 1000000, OutputTokens: 200000})
	if err != nil {
		t.Fatal(err)
	}
	if len(estimates) != 2 || estimates[0].GetTotal() != "6" || estimates[1].GetTotal() != "0.65" {
		t.Fatalf("estimates %v: want claude-sonnet-4-6 6 and gpt-5-mini 0.65", estimates)
	}
	sum := new(big.Rat)
	for _, line := range estimates[1].GetLines() {
		amount, err := client.Amount(line.GetAmount())
		if err != nil {
			t.Fatal(err)
		}
		sum.Add(sum, amount)
	}
	if total, _ := client.Amount("0.65"); sum.Cmp(total) != 0 {
		t.Errorf("lines add up to %s, want 0.65", sum.FloatString(10))
	}
	_, err = client.EstimateCost(context10s(t), catalog, []string{"gemini-2-5-flash"}, &pb.Usage{InputTokens: 10})
	wantCode(t, "missing price", err, codes.FailedPrecondition, "")
	if !strings.Contains(status.Convert(err).Message(), "pricing.input_cost_per_token") {
		t.Errorf("missing price: %v does not name pricing.input_cost_per_token", err)
	}
	_, err = client.EstimateCost(context10s(t), catalog, []string{"flux-2-dev"}, &pb.Usage{Images: -1})
	wantCode(t, "negative images", err, codes.InvalidArgument, "usage.images must not be negative, got -1")
}

func TestEachCheapestOrdersByTotal(t *testing.T) {
	var found []*pb.CostEstimate
	err := client.EachCheapest(context10s(t), catalog, "capabilities.output:image", &pb.Usage{Images: 4}, 1,
		func(e *pb.CostEstimate) error { found = append(found, e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 || found[0].GetModelId() != "flux-2-dev" || found[0].GetTotal() != "0.1" {
		t.Fatalf("first %v: want flux-2-dev at 0.1", found)
	}
	for i := 1; i < len(found); i++ {
		a, _ := client.Amount(found[i-1].GetTotal())
		b, _ := client.Amount(found[i].GetTotal())
		if a.Cmp(b) > 0 {
			t.Errorf("%s (%s) before %s (%s)", found[i-1].GetModelId(), found[i-1].GetTotal(),
				found[i].GetModelId(), found[i].GetTotal())
		}
	}
}

func TestValidateRequestReportsEachViolation(t *testing.T) {
	answer, err := client.ValidateRequest(context10s(t), catalog, "flux-2-dev",
		map[string]any{"prompt": "a fox", "num_images": 9})
	if err != nil {
		t.Fatal(err)
	}
	if answer.GetValid() || len(answer.GetViolations()) != 1 {
		t.Fatalf("answer %v: want one violation", answer)
	}
	v := answer.GetViolations()[0]
	if v.GetPointer() != "/num_images" || v.GetKeyword() != "maximum" || v.GetMessage() != "must be at most 4, got 9" {
		t.Errorf("violation %v", v)
	}
	answer, err = client.ValidateRequest(context10s(t), catalog, "flux-2-dev", map[string]any{"prompt": "a fox"})
	if err != nil || !answer.GetValid() {
		t.Errorf("a valid request: %v %v", answer, err)
	}
}

func TestAFilterThatDoesNotParseIsInvalidArgument(t *testing.T) {
	const filter = "capabilities.output:image AND ("
	_, err := catalog.ListModels(context10s(t), &pb.ListModelsRequest{Filter: filter})
	wantCode(t, "ListModels", err, codes.InvalidArgument, "filter: ")
	none := func(*pb.Model) error { return nil }
	err = client.EachModel(context10s(t), catalog, &pb.ListModelsRequest{Filter: filter}, none)
	wantCode(t, "EachModel", err, codes.InvalidArgument, "filter: ")
	err = client.EachSearchResultOf(context10s(t), catalog, &pb.SearchModelsRequest{Query: "a", Filter: filter}, none)
	wantCode(t, "EachSearchResultOf", err, codes.InvalidArgument, "filter: ")
}
