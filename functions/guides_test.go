package functions_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The deploy guides speak of the templates' own settings: every parameter a
// guide's table fills exists in template.yaml and every parameter without a
// default is filled, every output named exists, and every setting the
// Function Compute guide exports is one s.yaml reads.

func readGuide(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAWSGuideMatchesTemplateYAML(t *testing.T) {
	guide := readGuide(t, "deploy-aws.md")
	tpl := cfnTemplate(t)
	params := m(tpl, "Parameters").(map[string]any)
	outputs := m(tpl, "Outputs").(map[string]any)

	filled := map[string]bool{}
	for _, row := range regexp.MustCompile("(?m)^\\| (`[A-Za-z]+`(?:, `[A-Za-z]+`)*) \\|").FindAllStringSubmatch(guide, -1) {
		for _, name := range regexp.MustCompile("`([A-Za-z]+)`").FindAllStringSubmatch(row[1], -1) {
			if _, ok := params[name[1]]; !ok {
				t.Errorf("the guide's deploy table fills %s, which template.yaml has no parameter for", name[1])
			}
			filled[name[1]] = true
		}
	}
	for name, p := range params {
		if _, hasDefault := p.(map[string]any)["Default"]; !hasDefault && !filled[name] {
			t.Errorf("template.yaml's %s has no default, and the guide's deploy table does not fill it", name)
		}
	}
	for _, name := range regexp.MustCompile("`([A-Z][A-Za-z]+(?:Arn|Url|Name))`").FindAllStringSubmatch(guide, -1) {
		_, isParam := params[name[1]]
		_, isOutput := outputs[name[1]]
		if !isParam && !isOutput {
			t.Errorf("the guide names %s, neither a parameter nor an output of template.yaml", name[1])
		}
	}
}

func TestAlibabaGuideMatchesSYAML(t *testing.T) {
	guide := readGuide(t, "deploy-alibaba.md")
	b, err := os.ReadFile(filepath.Join(root, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	for _, mm := range regexp.MustCompile(`env\('([A-Z_]+)'`).FindAllStringSubmatch(string(b), -1) {
		read[mm[1]] = true
	}
	exported := regexp.MustCompile(`export ((?:[A-Z_]+=\S+\s*)+)`).FindAllStringSubmatch(guide, -1)
	if len(exported) == 0 {
		t.Fatal("the guide exports no settings")
	}
	for _, e := range exported {
		for _, kv := range strings.Fields(e[1]) {
			name, _, _ := strings.Cut(kv, "=")
			if !read[name] && !strings.HasPrefix(name, "ALIBABA_CLOUD_") {
				t.Errorf("the guide exports %s, which s.yaml does not read", name)
			}
		}
	}
	for _, name := range []string{"KMS_ROOT_KEY", "KMS_STORE", "KMS_PRINCIPALS_LAYER_ARN"} {
		if !strings.Contains(guide, "export "+name+"=") {
			t.Errorf("the guide never sets %s, which s deploy requires", name)
		}
	}
}
