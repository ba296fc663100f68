// The Tessera dashboard: a single-page app the gateway serves at `/`.
import { render } from "preact";
import { useLiveStatus } from "./api.js";
import { AccountPage } from "./pages/account.js";
import { JobPage } from "./pages/job.js";
import { JobsPage } from "./pages/jobs.js";
import { LeaderboardPage } from "./pages/leaderboard.js";
import { LedgerPage } from "./pages/ledger.js";
import { OverviewPage } from "./pages/overview.js";
import { ProviderPage } from "./pages/provider.js";
import { ProvidersPage } from "./pages/providers.js";
import { Link, useLocation } from "./router.js";
import "./style.css";

const NAV = [
  ["/", "Overview"],
  ["/providers", "Providers"],
  ["/jobs", "Jobs"],
  ["/ledger", "Ledger"],
  ["/leaderboard", "Leaderboard"],
  ["/account", "My account"],
] as const;

function page(path: string) {
  const m = /^\/(providers|jobs)\/([^/]+)$/.exec(path);
  if (m?.[1] === "providers" && m[2]) return <ProviderPage id={decodeURIComponent(m[2])} />;
  if (m?.[1] === "jobs" && m[2]) return <JobPage id={decodeURIComponent(m[2])} />;
  switch (path) {
    case "/":
      return <OverviewPage />;
    case "/providers":
      return <ProvidersPage />;
    case "/jobs":
      return <JobsPage />;
    case "/ledger":
      return <LedgerPage />;
    case "/leaderboard":
      return <LeaderboardPage />;
    case "/account":
      return <AccountPage />;
    default:
      return <p>No page here. <Link href="/">Go to the overview</Link>.</p>;
  }
}

function App() {
  const { path } = useLocation();
  const live = useLiveStatus();
  const active = (href: string) => (href === "/" ? path === "/" : path.startsWith(href));
  return (
    <>
      <nav class="top">
        <Link href="/" class="brand">
          ◆ Tessera
        </Link>
        {NAV.map(([href, label]) => (
          <Link key={href} href={href} class={active(href) ? "active" : ""}>
            {label}
          </Link>
        ))}
        <span class={`live ${live ? "on" : "off"}`} data-testid="live" title="Live updates from the gateway (server-sent events)">
          {live ? "● live" : "○ reconnecting"}
        </span>
      </nav>
      <main>{page(path)}</main>
    </>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
