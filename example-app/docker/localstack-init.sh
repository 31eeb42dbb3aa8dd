#!/bin/sh
# LocalStack runs this once S3 is ready (mounted into /etc/localstack/init/ready.d/ by docker-compose.yml):
# it creates the bucket and lets anyone read public media (the "media/" prefix, AWS_PUBLIC_MEDIA_LOCATION)
# and static files ("static/", which the app collects there at start-up).
# Private media ("private/") stays unreadable without a presigned URL. It also opens the bucket to direct
# uploads from the app's pages (CORS). The same policy works on AWS once
# the bucket's Block Public Access settings allow public bucket policies.
set -eu
BUCKET="${EXAMPLE_BUCKET:-example-media}"
awslocal s3api head-bucket --bucket "$BUCKET" 2>/dev/null || awslocal s3api create-bucket --bucket "$BUCKET"
awslocal s3api put-bucket-policy --bucket "$BUCKET" --policy "{
  \"Version\": \"2012-10-17\",
  \"Statement\": [{
    \"Sid\": \"PublicReadForPublicMediaAndStaticFiles\",
    \"Effect\": \"Allow\",
    \"Principal\": \"*\",
    \"Action\": \"s3:GetObject\",
    \"Resource\": [\"arn:aws:s3:::$BUCKET/media/*\", \"arn:aws:s3:::$BUCKET/static/*\"]
  }]
}"
# Direct uploads (/upload/direct): the app's pages PUT files to the bucket, so it must answer their CORS
# preflight. On AWS, list your site's origin instead of http://localhost:3000.
awslocal s3api put-bucket-cors --bucket "$BUCKET" --cors-configuration '{
  "CORSRules": [{
    "AllowedOrigins": ["http://localhost:3000"],
    "AllowedMethods": ["PUT"],
    "AllowedHeaders": ["*"],
    "ExposeHeaders": ["ETag"],
    "MaxAgeSeconds": 3600
  }]
}'
echo "bucket $BUCKET ready (public read on media/* and static/*, direct uploads from http://localhost:3000)"
