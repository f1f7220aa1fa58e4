/** Where to go after signing in: only a path inside this app, never another origin ("//evil.example" included). */
export function safeNext(next: string | null): string {
  return next &&
    next.startsWith("/") &&
    !next.startsWith("//") &&
    !next.startsWith("/\\") &&
    !next.startsWith("/sign-in")
    ? next
    : "/credits";
}
