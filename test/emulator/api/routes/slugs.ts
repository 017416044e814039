// Slugs and, on Fir, OCI images: what a release runs, with the commit it was built from.
import { notFound } from '../../errors';
import { presentOciImage, presentSlug } from '../present';
import { type ApiRouter } from '../router';

export function slugRoutes(api: ApiRouter): void {
  api.on('slug', 'Info', (req, ctx) => {
    const app = req.app();
    const id = req.params.slug ?? '';
    const slug = ctx.state.slugs.get(id);
    if (!slug || (!app.releases.some((r) => r.slugId === id) && !app.builds.some((b) => b.slugId === id)))
      throw notFound('slug', "Couldn't find that slug.");
    return { body: presentSlug(ctx.present, slug) };
  });

  api.on('oci-image', 'Info', (req, ctx) => {
    const app = req.app();
    const id = req.params.oci_image ?? '';
    const image = ctx.state.ociImages.get(id) ?? [...ctx.state.ociImages.values()].find((i) => i.digest === id);
    if (!image || !app.releases.some((r) => r.ociImageId === image.id))
      throw notFound('oci-image', "Couldn't find that OCI image.");
    return { body: [presentOciImage(image)] };
  });
}
