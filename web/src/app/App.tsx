/** The shell: who is signed in, which page the URL names, and the navigation around it. */
import { useEffect } from "react";
import { ActivityPage } from "../activity/ActivityPage";
import { SignInPage } from "../auth/SignInPage";
import { CreditsPage } from "../credits/CreditsPage";
import { type Session, signOut, useSession } from "../firebase";
import { GenerationPage } from "../generations/GenerationPage";
import { Link, navigate, useLocation } from "../router";
import { NotAllowed } from "../admin/NotAllowed";
import { Spinner } from "../ui/bits";
import { loadable } from "../ui/loadable";
import { safeNext } from "./safeNext";

// The admin area (and chart.js under it) is its own chunk: members never download it.
export const AdminPage = loadable(() => import("../admin/AdminPage"), <Spinner label="Loading" />);
// Top up (packs, automatic top-up, alerts) and the emulators' test checkout: chunks of their own too.
const TopUpPage = loadable(() => import("../credits/TopUpPage"), <Spinner label="Loading" />);
const TestCheckoutPage = loadable(() => import("../credits/TestCheckoutPage"), <Spinner label="Loading" />);

type SignedIn = Extract<Session, { status: "signedIn" }>;

export function App() {
  const session = useSession();
  const { pathname, search } = useLocation();

  useEffect(() => {
    if (session.status === "signedOut" && pathname !== "/sign-in") {
      const next = pathname === "/" ? "" : `?next=${encodeURIComponent(pathname + search)}`;
      navigate(`/sign-in${next}`, { replace: true });
    }
    if (session.status === "signedIn" && (pathname === "/sign-in" || pathname === "/")) {
      navigate(safeNext(new URLSearchParams(search).get("next")), { replace: true });
    }
  }, [session.status, pathname, search]);

  if (session.status === "loading") {
    return (
      <div className="boot">
        <Spinner label="Loading" />
      </div>
    );
  }
  if (session.status === "signedOut") {
    return (
      <main id="main" className="main main-narrow">
        <SignInPage />
      </main>
    );
  }
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <Header session={session} pathname={pathname} />
      <main id="main" className="main">
        <Page session={session} pathname={pathname} search={search} />
      </main>
    </>
  );
}

function Header({ session, pathname }: { session: SignedIn; pathname: string }) {
  const links = [
    { href: "/credits", label: "Credits", active: pathname.startsWith("/credits") || pathname.startsWith("/top-up") },
    {
      href: "/activity",
      label: "Activity",
      active: pathname.startsWith("/activity") || pathname.startsWith("/generations"),
    },
  ];
  if (session.admin) links.push({ href: "/admin/credits", label: "Admin", active: pathname.startsWith("/admin") });
  return (
    <header className="app-header">
      <div className="app-header-inner">
        <Link href="/credits" className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Credits
        </Link>
        <nav aria-label="Main">
          <ul>
            {links.map((link) => (
              <li key={link.href}>
                <Link href={link.href} aria-current={link.active ? "page" : undefined}>
                  {link.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="account">
          <span className="account-email" title={session.email ?? session.uid}>
            {session.email ?? session.uid}
          </span>
          <button type="button" className="button button-small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </div>
    </header>
  );
}

function Page({ session, pathname, search }: { session: SignedIn; pathname: string; search: string }) {
  const activity = /^\/activity(?:\/(.+))?$/.exec(pathname);
  const generation = /^\/generations\/(.+)$/.exec(pathname);
  let title: string;
  let page: React.ReactNode;
  if (pathname === "/sign-in" || pathname === "/") {
    // Signed in at /sign-in or /: the effect above is already navigating to `next`; fetch nothing here.
    title = "Loading";
    page = <Spinner label="Loading" />;
  } else if (pathname === "/credits") {
    title = "Credits usage";
    page = <CreditsPage session={session} />;
  } else if (pathname === "/top-up") {
    title = "Top up";
    page = <TopUpPage uid={session.uid} />;
  } else if (pathname === "/top-up/test-checkout") {
    title = "Test checkout";
    page = <TestCheckoutPage />;
  } else if (activity) {
    title = "Activity";
    page = <ActivityPage uid={session.uid} itemId={activity[1] ? decodeURIComponent(activity[1]) : null} />;
  } else if (pathname === "/admin" || pathname.startsWith("/admin/")) {
    title = session.admin ? "Admin" : "Not allowed";
    page = session.admin ? (
      <AdminPage pathname={pathname === "/admin" ? "/admin/credits" : pathname} search={search} />
    ) : (
      <NotAllowed />
    );
  } else if (generation?.[1]) {
    title = "Generation";
    page = <GenerationPage jobId={decodeURIComponent(generation[1])} />;
  } else {
    title = "Not found";
    page = (
      <div className="panel not-found">
        <h1>Page not found</h1>
        <p>
          There is nothing at this address. Go to <Link href="/credits">Credits usage</Link> or{" "}
          <Link href="/activity">Activity</Link>.
        </p>
      </div>
    );
  }
  return (
    <>
      <DocumentTitle title={title} />
      {page}
    </>
  );
}

function DocumentTitle({ title }: { title: string }) {
  useEffect(() => {
    document.title = `${title} · Credits`;
  }, [title]);
  return null;
}
