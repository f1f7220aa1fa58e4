import { describe, expect, it } from "vitest";
import { ApiError, type CreditSettings } from "../api/client";
import { errorsOf, fieldMessage, parseThreshold, rowHint, rowsFrom, settingsPatch } from "./thresholds";

/** The settings as far as this form reads them (other settings, such as automatic top-up, are others'). */
const SETTINGS = {
  lowBalance: {
    image: { threshold: 20, default: 20, isDefault: true },
    video: { threshold: 50, default: 10, isDefault: false },
  },
  expiringSoonDays: 3,
  updatedAt: "2026-12-01T10:00:00Z",
} as CreditSettings;

describe("a threshold as typed", () => {
  it("is a whole number of credits, 0 or more, with separators allowed", () => {
    expect(parseThreshold(" 25 ")).toEqual({ value: 25 });
    expect(parseThreshold("0")).toEqual({ value: 0 });
    expect(parseThreshold("1,000")).toEqual({ value: 1000 });
    expect(parseThreshold("1 000")).toEqual({ value: 1000 });
    expect(parseThreshold("")).toEqual({ error: "Enter a number of credits (0 turns the alert off)." });
    for (const bad of ["-5", "12.5", "ten", "1e3", "+4"]) {
      expect(parseThreshold(bad)).toEqual({ error: "Enter a whole number of credits, 0 or more." });
    }
  });
});

describe("the form's rows", () => {
  it("show the value in force and whether it is the default", () => {
    const [image, video] = rowsFrom(SETTINGS);
    expect(image).toMatchObject({ type: "image", text: "20", useDefault: true, default: 20 });
    expect(video).toMatchObject({ type: "video", text: "50", useDefault: false, default: 10 });
    expect(image && rowHint(image)).toBe("The default, 20 credits.");
    expect(video && rowHint(video)).toBe("Your own; the default is 10.");
    expect(video && rowHint({ ...video, text: "0" })).toBe("Off: no low-balance alert for video credits.");
  });
});

describe("the patch", () => {
  const rows = rowsFrom(SETTINGS);
  const edit = (type: string, text: string, useDefault = false) =>
    rows.map((row) => (row.type === type ? { ...row, text, useDefault } : row));

  it("names only what changes", () => {
    expect(settingsPatch(rows)).toEqual({ patch: {}, errors: {} });
    expect(settingsPatch(edit("image", "50"))).toEqual({ patch: { lowBalance: { image: 50 } }, errors: {} });
    expect(settingsPatch(edit("video", "50"))).toEqual({ patch: {}, errors: {} });
    expect(settingsPatch(edit("video", "0"))).toEqual({ patch: { lowBalance: { video: 0 } }, errors: {} });
  });

  it("sends null to go back to the default, and the default's number to keep it as one's own", () => {
    expect(settingsPatch(edit("video", "10", true))).toEqual({ patch: { lowBalance: { video: null } }, errors: {} });
    // Typing the default's number over the default keeps the user's own value.
    expect(settingsPatch(edit("image", "20"))).toEqual({ patch: { lowBalance: { image: 20 } }, errors: {} });
  });

  it("sends nothing while a field is not a threshold", () => {
    expect(settingsPatch(edit("image", "12.5"))).toEqual({
      patch: {},
      errors: { image: "Enter a whole number of credits, 0 or more." },
    });
  });
});

describe("the API's objections", () => {
  it("go next to the field they name", () => {
    const error = new ApiError(400, "invalid_argument", "invalid request body", {
      errors: [{ field: "lowBalance.image", message: "Input should be less than or equal to 10000000" }],
    });
    expect(errorsOf(error, ["image", "video"])).toEqual({
      byType: { image: "Enter at most 10,000,000 credits." },
      form: null,
    });
  });

  it("that name no field are said above the form", () => {
    const unknown = new ApiError(400, "invalid_argument", "invalid request body", {
      errors: [{ field: "lowBalance.audio", message: "Input should be 'image' or 'video'" }],
    });
    expect(errorsOf(unknown, ["image", "video"])).toEqual({ byType: {}, form: "Invalid request body." });
    expect(errorsOf(new ApiError(503, "unavailable", "try again later"), ["image"]).form).toBe("Try again later.");
    expect(errorsOf(new TypeError("Failed to fetch"), ["image"]).form).toBe(
      "Your alerts could not be saved. Try again.",
    );
  });

  it("are put in people's words when they are the validator's", () => {
    expect(fieldMessage("Input should be greater than or equal to 0")).toBe("Enter 0 or more credits.");
    expect(fieldMessage("Input should be a valid integer, got a number with a fractional part")).toBe(
      "Enter a whole number of credits.",
    );
    expect(fieldMessage("threshold too high")).toBe("Threshold too high.");
  });
});
