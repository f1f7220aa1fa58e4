/** The admin Users tab: users below a threshold of one credit type, lowest first; Grant credits. */
import { useState } from "react";
import { type LowBalanceUser, adminApi } from "../api/client";
import { count } from "../format";
import { Link, navigate } from "../router";
import { EmptyState, Field, Time } from "../ui/bits";
import { usePaged } from "../ui/usePaged";
import { GrantDialog } from "./GrantDialog";
import { AdminError } from "./NotAllowed";
import { expiringText } from "../credits/blocks";
import { type UsersFilters, adminLedgerSearch, parseUsers, tabPath, usersSearch } from "./tabs";

export function UsersTab({ search }: { search: string }) {
  const filters = parseUsers(search);
  const [grant, setGrant] = useState<{ user: LowBalanceUser | null } | null>(null);
  const users = usePaged(`admin-users${usersSearch(filters)}`, async (cursor) => {
    const page = await adminApi.users(filters, cursor);
    return { items: page.users, nextCursor: page.nextCursor };
  });

  function apply(next: UsersFilters) {
    navigate(tabPath("users", usersSearch(next)), { replace: true });
  }

  if (users.error?.code === "permission_denied") return <AdminError error={users.error} />;
  return (
    <section className="panel" aria-labelledby="admin-users-heading">
      <div className="panel-header">
        <h2 id="admin-users-heading">Low balances</h2>
        <button type="button" className="button button-primary" onClick={() => setGrant({ user: null })}>
          Grant credits
        </button>
      </div>
      <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Credit type">
          {(id) => (
            <select
              id={id}
              value={filters.type}
              onChange={(e) => apply({ ...filters, type: e.target.value === "video" ? "video" : "image" })}
            >
              <option value="image">Image</option>
              <option value="video">Video</option>
            </select>
          )}
        </Field>
        <Field label="Below">
          {(id) => (
            <input
              id={id}
              type="number"
              min={1}
              max={10_000_000}
              inputMode="numeric"
              defaultValue={filters.below}
              onChange={(e) => {
                const below = Number(e.target.value);
                if (Number.isInteger(below) && below >= 1) apply({ ...filters, below });
              }}
            />
          )}
        </Field>
      </form>
      {users.status === "error" && users.error && <AdminError error={users.error} />}
      <div className="table-wrap">
        <table
          className="ledger-table admin-users-table"
          aria-label="Low-balance users"
          aria-busy={users.status !== "ready"}
        >
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col" className="num">
                Image credits
              </th>
              <th scope="col" className="num">
                Video credits
              </th>
              <th scope="col">Last activity</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.items.map((user) => (
              <tr key={user.uid} data-uid={user.uid}>
                <td data-label="User">
                  <span className="admin-user-email">{user.email ?? "No email"}</span>
                  <Link href={tabPath("ledger", adminLedgerSearch({ q: user.uid }))} className="admin-user">
                    {user.uid}
                  </Link>
                </td>
                <td data-label="Image credits" className={`num${filters.type === "image" ? " admin-low" : ""}`}>
                  {count(user.image)}
                  {user.expiring.image && <span className="cell-note">{expiringText(user.expiring.image)}</span>}
                </td>
                <td data-label="Video credits" className={`num${filters.type === "video" ? " admin-low" : ""}`}>
                  {count(user.video)}
                  {user.expiring.video && <span className="cell-note">{expiringText(user.expiring.video)}</span>}
                </td>
                <td data-label="Last activity">{user.lastActivity ? <Time iso={user.lastActivity} /> : "—"}</td>
                <td data-label="Actions">
                  <button type="button" className="button button-small" onClick={() => setGrant({ user })}>
                    Grant credits
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {users.status === "loading" && <p className="muted">Loading users…</p>}
      {users.status === "ready" && users.items.length === 0 && (
        <EmptyState title={`No user has fewer than ${count(filters.below)} ${filters.type} credits`} />
      )}
      {users.hasMore && (
        <div className="load-more">
          <button type="button" className="button" onClick={users.loadMore} disabled={users.status !== "ready"}>
            {users.status === "more" ? "Loading…" : "Load more"}
          </button>
        </div>
      )}
      {grant && (
        <GrantDialog
          user={grant.user ? { uid: grant.user.uid, email: grant.user.email } : null}
          defaultType={filters.type}
          onClose={() => setGrant(null)}
          onGranted={users.reload}
        />
      )}
    </section>
  );
}
