/** A generation's result: the job, what it cost, and its outputs (the deep-link target of Activity). */
import { useEffect, useState } from "react";
import { type ActivityDetail, ApiError, api } from "../api/client";
import { Link } from "../router";
import { Notice, Spinner, Time } from "../ui/bits";
import { generationCost, qualityLabel, statusLabel } from "../activity/labels";

export function GenerationPage({ jobId }: { jobId: string }) {
  const [state, setState] = useState<{ jobId: string; detail?: ActivityDetail; error?: ApiError }>({ jobId });
  useEffect(() => {
    let live = true;
    api.activityItem(`job:${jobId}`).then(
      (detail) => live && setState({ jobId, detail }),
      (error: unknown) =>
        live &&
        setState({
          jobId,
          error: error instanceof ApiError ? error : new ApiError(0, "network", "The server could not be reached."),
        }),
    );
    return () => {
      live = false;
    };
  }, [jobId]);

  const current = state.jobId === jobId ? state : { jobId };
  const job = current.detail?.job;
  const item = current.detail?.item;
  return (
    <>
      <div className="page-heading">
        <p className="breadcrumb">
          <Link href="/activity">Activity</Link> / Generation
        </p>
        <h1>{item?.summary ?? "Generation"}</h1>
      </div>
      {!current.detail && !current.error && <Spinner label="Loading the generation" />}
      {current.error &&
        (current.error.code === "not_found" ? (
          <div className="panel not-found">
            <p className="empty-title">This generation was not found</p>
            <p>It may have been typed wrong, or it belongs to another account.</p>
          </div>
        ) : (
          <Notice tone="error">{current.error.message}</Notice>
        ))}
      {job && item && (
        <section className="panel">
          <dl className="facts">
            <div className="fact">
              <dt>Status</dt>
              <dd>{statusLabel(job.status ?? undefined)}</dd>
            </div>
            <div className="fact">
              <dt>AI Influencer</dt>
              <dd>{job.influencerName ?? "None"}</dd>
            </div>
            <div className="fact">
              <dt>Quality</dt>
              <dd>{qualityLabel(job.quality) ?? "—"}</dd>
            </div>
            <div className="fact">
              <dt>Aspect ratio</dt>
              <dd>{job.aspectRatio ?? "—"}</dd>
            </div>
            {job.createdAt && (
              <div className="fact">
                <dt>Created</dt>
                <dd>
                  <Time iso={job.createdAt} />
                </dd>
              </div>
            )}
            <div className="fact">
              <dt>Credits</dt>
              <dd>{generationCost(item.credits)}</dd>
            </div>
          </dl>
          <h2 className="section-heading">Outputs</h2>
          {job.outputs && job.outputs.length > 0 ? (
            <ul className="outputs">
              {job.outputs.map((url, i) => (
                <li key={`${i}-${url}`}>
                  <a href={url} target="_blank" rel="noreferrer noopener">
                    {/\.(png|jpe?g|webp|gif|svg)$/i.test(url) ? (
                      <img src={url} alt={`Output ${i + 1} of ${job.outputs?.length ?? 0}`} loading="lazy" />
                    ) : (
                      `Output ${i + 1}`
                    )}
                  </a>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">
              {job.status === "failed" ? "This generation failed, so it has no outputs." : "No outputs yet."}
            </p>
          )}
        </section>
      )}
    </>
  );
}
