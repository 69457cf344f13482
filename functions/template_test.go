package functions_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

// The deployment descriptors are read as raw YAML: goformation does not merge
// SAM's Globals and drops Metadata, and yaml.v3 keeps CloudFormation's short
// tags' values (!Ref X reads as "X") and resolves merge keys (<<: *function).

type samTemplate struct {
	Globals struct {
		Function samProps `yaml:"Function"`
	} `yaml:"Globals"`
	Resources map[string]struct {
		Type       string         `yaml:"Type"`
		Properties map[string]any `yaml:"Properties"`
		Metadata   map[string]any `yaml:"Metadata"`
	} `yaml:"Resources"`
}

type samProps struct {
	Runtime       string   `yaml:"Runtime"`
	Architectures []string `yaml:"Architectures"`
	Handler       string   `yaml:"Handler"`
}

type devsTemplate struct {
	Resources map[string]struct {
		Component string `yaml:"component"`
		Props     struct {
			FunctionName string           `yaml:"functionName"`
			Runtime      string           `yaml:"runtime"`
			Handler      string           `yaml:"handler"`
			Code         string           `yaml:"code"`
			Triggers     []map[string]any `yaml:"triggers"`
			Lifecycle    struct {
				PreStop struct {
					Handler string `yaml:"handler"`
				} `yaml:"preStop"`
			} `yaml:"instanceLifecycleConfig"`
		} `yaml:"props"`
	} `yaml:"resources"`
}

func readYAML(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// globalsEnv is the environment template.yaml's Globals give every function.
func globalsEnv(tb testing.TB) map[string]any {
	var tpl struct {
		Globals struct {
			Function struct {
				Environment struct {
					Variables map[string]any `yaml:"Variables"`
				} `yaml:"Environment"`
			} `yaml:"Function"`
		} `yaml:"Globals"`
	}
	readYAML(tb, "template.yaml", &tpl)
	return tpl.Globals.Function.Environment.Variables
}

func target(t *testing.T, platform string) emulate.Target {
	t.Helper()
	for _, tg := range emulate.Targets {
		if tg.Platform == platform {
			return tg
		}
	}
	t.Fatalf("no %s target", platform)
	return emulate.Target{}
}

// samArch is Lambda's name for a Go architecture.
var samArch = map[string]string{"arm64": "arm64", "amd64": "x86_64"}

func TestTemplateYAMLMatchesTheFunctionsAndTheirBuildTargets(t *testing.T) {
	folders, err := emulate.Functions(root)
	if err != nil {
		t.Fatal(err)
	}
	var tpl samTemplate
	readYAML(t, "template.yaml", &tpl)
	lambda := target(t, "lambda")
	g := tpl.Globals.Function
	if g.Runtime != "provided.al2023" || !slices.Equal(g.Architectures, []string{samArch[lambda.GOARCH]}) || g.Handler != lambda.Binary {
		t.Errorf("Globals.Function: runtime %q, architectures %v, handler %q; want provided.al2023, [%s], %s (the builds' target)",
			g.Runtime, g.Architectures, g.Handler, samArch[lambda.GOARCH], lambda.Binary)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "functions", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	build := regexp.MustCompile(`(?m)^LAMBDA_BUILD = (.*)$`).FindSubmatch(makefile)
	if build == nil {
		t.Fatal("functions/Makefile defines no LAMBDA_BUILD")
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=" + lambda.GOOS, "GOARCH=" + lambda.GOARCH, "-trimpath", "-tags lambda.norpc", `-ldflags "-s -w"`, "-o $(ARTIFACTS_DIR)/" + lambda.Binary} {
		if !strings.Contains(string(build[1]), want) {
			t.Errorf("LAMBDA_BUILD %q lacks %q", build[1], want)
		}
	}
	seen := map[string]string{}
	for id, res := range tpl.Resources {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}
		uri, _ := res.Properties["CodeUri"].(string)
		folder, ok := strings.CutPrefix(uri, "functions/")
		if !ok || !slices.Contains(folders, folder) {
			t.Errorf("%s: CodeUri %q is not a folder of functions/ with a main.go", id, uri)
			continue
		}
		if prev := seen[folder]; prev != "" {
			t.Errorf("%s and %s both deploy functions/%s", prev, id, folder)
		}
		seen[folder] = id
		for _, key := range []string{"Runtime", "Architectures", "Handler"} {
			if v, ok := res.Properties[key]; ok {
				t.Errorf("%s overrides %s (%v): runtime and architecture live in Globals, next to the builds' target", id, key, v)
			}
		}
		// SAM copies a function's source folder (ProjectRootDirectory when set,
		// else CodeUri) to a scratch folder before running make: the function's
		// own folder is a single main.go, while the module root holds dist/ and
		// every other function. WorkingDirectory runs make in the module root
		// itself, where go build finds go.mod.
		if res.Metadata["BuildMethod"] != "makefile" || res.Metadata["ContextPath"] != "functions" || res.Metadata["WorkingDirectory"] != "." {
			t.Errorf("%s: Metadata %v; want BuildMethod makefile, ContextPath functions, WorkingDirectory .", id, res.Metadata)
		}
		if v, ok := res.Metadata["ProjectRootDirectory"]; ok {
			t.Errorf("%s: Metadata ProjectRootDirectory %v makes sam build copy that whole tree, dist/ included, once per function", id, v)
		}
		rule := regexp.MustCompile(`(?m)^build-` + regexp.QuoteMeta(id) + `:\s*\n\t(.*)$`).FindSubmatch(makefile)
		if rule == nil {
			t.Errorf("%s: functions/Makefile has no target build-%s for SAM", id, id)
		} else if got, want := strings.TrimSpace(string(rule[1])), "$(LAMBDA_BUILD) ./functions/"+folder; got != want {
			t.Errorf("build-%s runs %q; want %q", id, got, want)
		}
	}
	for _, f := range folders {
		if seen[f] == "" {
			t.Errorf("functions/%s has no AWS::Serverless::Function in template.yaml", f)
		}
	}
	if api := tpl.Resources[seen["api"]]; api.Properties["FunctionUrlConfig"] == nil {
		t.Error("the api function has no function URL")
	}
}

func TestTemplateYAMLKeepsTheSeedsTrustSplit(t *testing.T) {
	var tpl samTemplate
	readYAML(t, "template.yaml", &tpl)
	invokable := func(role string) []string {
		var arns []string
		for _, p := range tpl.Resources[role].Properties["Policies"].([]any) {
			doc := p.(map[string]any)["PolicyDocument"].(map[string]any)
			for _, st := range doc["Statement"].([]any) {
				st := st.(map[string]any)
				if st["Action"] != "lambda:InvokeFunction" || st["Effect"] != "Allow" {
					t.Errorf("%s allows %v: want lambda:InvokeFunction only", role, st["Action"])
				}
				switch r := st["Resource"].(type) {
				case string:
					arns = append(arns, r)
				case []any:
					for _, x := range r {
						arns = append(arns, x.(string))
					}
				}
			}
		}
		slices.Sort(arns)
		return arns
	}
	if got, want := invokable("ProvisionerRole"), []string{"GenerateDataKeyWithoutPlaintextFunction.Arn", "ProvisionPartitionsFunction.Arn"}; !slices.Equal(got, want) {
		t.Errorf("the provisioner may invoke %v; want %v", got, want)
	}
	if got, want := invokable("DataPlaneRole"), []string{"DecryptFunction.Arn", "GetPartitionDataKeyFunction.Arn"}; !slices.Equal(got, want) {
		t.Errorf("the data plane may invoke %v; want %v", got, want)
	}
}

func TestSYAMLMatchesTheFunctionsAndTheirBuilds(t *testing.T) {
	folders, err := emulate.Functions(root)
	if err != nil {
		t.Fatal(err)
	}
	var tpl devsTemplate
	readYAML(t, "s.yaml", &tpl)
	fc := target(t, "fc")
	// go1, Function Compute's Go runtime, is x86_64 only: the build must be amd64.
	if fc.GOOS != "linux" || fc.GOARCH != "amd64" {
		t.Errorf("the FC build targets %s/%s; the go1 runtime runs linux/amd64", fc.GOOS, fc.GOARCH)
	}
	for name, res := range tpl.Resources {
		p := res.Props
		if res.Component != "fc3" {
			t.Errorf("%s: component %q; want fc3", name, res.Component)
		}
		if !slices.Contains(folders, name) {
			t.Errorf("s.yaml resource %s is not a folder of functions/ with a main.go", name)
		}
		if p.Runtime != "go1" || p.Handler != fc.Binary {
			t.Errorf("%s: runtime %q handler %q; want go1 and %s, the binary the build zips", name, p.Runtime, p.Handler, fc.Binary)
		}
		if want := "./dist/fc/" + name + ".zip"; p.Code != want {
			t.Errorf("%s: code %q; want %q (what make build writes)", name, p.Code, want)
		}
		if p.Lifecycle.PreStop.Handler == "" {
			t.Errorf("%s: no pre-stop hook: connections would not be closed", name)
		}
	}
	for _, f := range folders {
		if _, ok := tpl.Resources[f]; !ok {
			t.Errorf("functions/%s has no resource in s.yaml", f)
		}
	}
	hasHTTP := false
	for _, tr := range tpl.Resources["api"].Props.Triggers {
		hasHTTP = hasHTTP || tr["triggerType"] == "http"
	}
	if !hasHTTP {
		t.Error("the api function has no HTTP trigger in s.yaml")
	}
}
