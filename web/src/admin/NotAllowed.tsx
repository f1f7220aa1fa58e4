/** What a signed-in user without the admin claim sees at an admin address (the API answers 403). */
import { Link } from "../router";
import { Notice } from "../ui/bits";

export function NotAllowed() {
  return (
    <div className="panel not-found">
      <h1>Not allowed</h1>
      <p>
        This page is for administrators, and your account is not one. Go to <Link href="/credits">Credits usage</Link>{" "}
        or <Link href="/activity">Activity</Link>.
      </p>
    </div>
  );
}

/** A failed admin call: 403 is the not-allowed view, anything else a message. */
export function AdminError({ error }: { error: { code: string; message: string } }) {
  if (error.code === "permission_denied") return <NotAllowed />;
  return <Notice tone="error">{error.message}</Notice>;
}
