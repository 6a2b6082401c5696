import type { Config } from '../platform/config.ts';
import { LocalPictureStorage } from './local-storage.ts';
import { S3PictureStorage } from './s3-storage.ts';
import type { PictureStorage } from './storage.ts';

/** The picture storage `config.storage` names: the campaigns folder, or an S3-compatible bucket. */
export function openPictureStorage(config: Pick<Config, 'storage' | 'campaigns_dir'>): PictureStorage {
  const settings = config.storage;
  return settings.kind === 'local' ? new LocalPictureStorage(config.campaigns_dir) : new S3PictureStorage(settings);
}
