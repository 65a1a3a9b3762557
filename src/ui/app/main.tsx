// The UI's shell: navigation, namespace, theme, the login prompt and the routes (Argo's UI URLs).
import "./styles.css";
import type { JSX } from "preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { getToken, onAuthNeeded, setToken } from "./api.js";
import { ConfirmHost } from "./components/common.js";
import { warmUpLayout } from "./graph/layout-client.js";
import { ArchivedList } from "./pages/archived.js";
import { CronDetails, CronList } from "./pages/cron.js";
import { TemplateDetails, TemplatesList } from "./pages/templates.js";
import { WorkflowDetails } from "./pages/workflow-details.js";
import { WorkflowsList } from "./pages/workflows-list.js";
import { Link, matchRoute, navigate, useLocation } from "./router.js";

const NS_KEY = "skiff.namespace";
const THEME_KEY = "skiff.theme";

function storedNamespace(): string {
  return localStorage.getItem(NS_KEY) ?? "default";
}

function Login(props: { onDone: () => void }): JSX.Element {
  const [value, setValue] = useState(getToken());
  return (
    <main class="login" id="main">
      <h1>Log in</h1>
      <p>This server requires a token. Paste the bearer token the server was started with.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setToken(value);
          props.onDone();
        }}
      >
        <label for="token">Token</label>
        <textarea
          id="token"
          rows={3}
          value={value}
          onInput={(e) => setValue((e.currentTarget as HTMLTextAreaElement).value)}
        />
        <button type="submit" class="primary">
          Log in
        </button>
      </form>
    </main>
  );
}

function Routes(props: { namespace: string }): JSX.Element {
  const { path, query } = useLocation();
  const ns = props.namespace;
  let m: Record<string, string> | undefined;
  if (path === "/" || path === "") {
    navigate(`/workflows/${ns}`, { replace: true });
    return <div />;
  }
  if ((m = matchRoute("/workflows/:namespace/:name", path)))
    return (
      <WorkflowDetails
        namespace={m.namespace as string}
        name={m.name as string}
        {...(query.get("uid") ? { uid: query.get("uid") as string } : {})}
      />
    );
  if ((m = matchRoute("/workflows/:namespace?", path)))
    return <WorkflowsList namespace={m.namespace ?? ns} />;
  if ((m = matchRoute("/workflow-templates/:namespace/:name", path)))
    return <TemplateDetails namespace={m.namespace as string} name={m.name as string} cluster={false} />;
  if ((m = matchRoute("/workflow-templates/:namespace?", path)))
    return <TemplatesList namespace={m.namespace ?? ns} cluster={false} />;
  if ((m = matchRoute("/cluster-workflow-templates/:name", path)))
    return <TemplateDetails namespace={ns} name={m.name as string} cluster={true} />;
  if (matchRoute("/cluster-workflow-templates", path)) return <TemplatesList cluster={true} />;
  if ((m = matchRoute("/cron-workflows/:namespace/:name", path)))
    return <CronDetails namespace={m.namespace as string} name={m.name as string} />;
  if ((m = matchRoute("/cron-workflows/:namespace?", path)))
    return <CronList namespace={m.namespace ?? ns} />;
  if ((m = matchRoute("/archived-workflows/:namespace/:uid", path)))
    return <WorkflowDetails namespace={m.namespace as string} uid={m.uid as string} archived={true} />;
  if ((m = matchRoute("/archived-workflows/:namespace?", path)))
    return <ArchivedList namespace={m.namespace ?? ns} />;
  return (
    <div>
      <h1>Not found</h1>
      <p>
        No page at <code>{path}</code>. <Link to={`/workflows/${ns}`}>Workflows</Link>
      </p>
    </div>
  );
}

function App(): JSX.Element {
  const { path } = useLocation();
  const [authNeeded, setAuthNeeded] = useState(false);
  const [namespace, setNamespace] = useState(storedNamespace);
  const [theme, setTheme] = useState(() => localStorage.getItem(THEME_KEY) ?? "auto");
  const [epoch, setEpoch] = useState(0);

  useEffect(() => onAuthNeeded(setAuthNeeded), []);
  useEffect(() => {
    localStorage.setItem(THEME_KEY, theme);
    const dark = window.matchMedia("(prefers-color-scheme: dark)");
    const apply = (): void => {
      document.documentElement.dataset.theme = theme === "auto" ? (dark.matches ? "dark" : "light") : theme;
    };
    apply();
    dark.addEventListener("change", apply);
    return () => dark.removeEventListener("change", apply);
  }, [theme]);
  // The namespace in the URL wins and is remembered for the nav links.
  const urlNs = /^\/(workflows|workflow-templates|cron-workflows|archived-workflows)\/([^/]+)/.exec(
    path,
  )?.[2];
  useEffect(() => {
    if (urlNs && urlNs !== namespace) {
      setNamespace(decodeURIComponent(urlNs));
      localStorage.setItem(NS_KEY, decodeURIComponent(urlNs));
    }
  }, [urlNs]);

  if (authNeeded || path === "/login") {
    return (
      <Login
        onDone={() => {
          setAuthNeeded(false);
          setEpoch((e) => e + 1);
          if (path === "/login") navigate(`/workflows/${namespace}`, { replace: true });
        }}
      />
    );
  }
  const section = path.split("/")[1] ?? "";
  const nav: [string, string, string][] = [
    ["workflows", `/workflows/${namespace}`, "Workflows"],
    ["workflow-templates", `/workflow-templates/${namespace}`, "Templates"],
    ["cluster-workflow-templates", "/cluster-workflow-templates", "Cluster templates"],
    ["cron-workflows", `/cron-workflows/${namespace}`, "Cron workflows"],
    ["archived-workflows", `/archived-workflows/${namespace}`, "Archived"],
  ];
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <nav class="topnav" aria-label="Main">
        <span class="brand">Skiff</span>
        {nav.map(([key, to, label]) => (
          <Link key={key} to={to} aria-current={section === key ? "page" : undefined}>
            {label}
          </Link>
        ))}
        <span class="spacer" />
        <label>
          Namespace{" "}
          <input
            class="ns"
            value={namespace}
            aria-label="Namespace"
            onChange={(e) => {
              const v = (e.currentTarget as HTMLInputElement).value.trim();
              setNamespace(v);
              localStorage.setItem(NS_KEY, v);
              if (section && section !== "cluster-workflow-templates") navigate(`/${section}/${v}`);
            }}
          />
        </label>
        <label>
          Theme{" "}
          <select
            aria-label="Theme"
            value={theme}
            onChange={(e) => setTheme((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="auto">System</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
        {getToken() && (
          <button
            type="button"
            onClick={() => {
              setToken("");
              setAuthNeeded(true);
            }}
          >
            Log out
          </button>
        )}
      </nav>
      <main id="main">
        <Routes key={epoch} namespace={namespace} />
      </main>
      <ConfirmHost />
    </>
  );
}

// The layout worker loads elkjs while the first workflow is fetched.
warmUpLayout();
render(<App />, document.getElementById("app") as HTMLElement);
