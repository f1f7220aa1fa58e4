import { describe, expect, it } from "vitest";
import { safeNext } from "./safeNext";

describe("safeNext", () => {
  it("returns to a path of this app after signing in", () => {
    expect(safeNext("/activity/job:abc?range=7d")).toBe("/activity/job:abc?range=7d");
  });
  it("never leaves the app", () => {
    expect(safeNext("//evil.example/x")).toBe("/credits");
    expect(safeNext("https://evil.example")).toBe("/credits");
    expect(safeNext("/\\evil.example")).toBe("/credits");
    expect(safeNext(null)).toBe("/credits");
    expect(safeNext("/sign-in")).toBe("/credits");
  });
});
